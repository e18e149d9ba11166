"""What every reader returns, and the two kinds of error a reader raises.

A reader is a small class per dataset with two methods:

* ``index() -> pandas.DataFrame``: one row per record found, without reading signals. It has a
  column ``record_id`` (unique, str) plus the dataset's metadata and labels. A missing folder or
  metadata file raises :class:`DatasetError`.
* ``read(record_id) -> Record``: the signal in physical units. A record that cannot be used
  raises :class:`RecordError` naming the file and the problem; callers count it as a skip by
  ``reason``.

Records the dataset lists but ``index()`` cannot offer (files absent, no valid fold, metadata that
does not match) are not dropped silently: ``index().attrs["left_out"]`` maps a skip reason to their
record ids, and the cache counts them with the skips of ``read``. Findings that change no record
set but must be seen (unknown label codes, ids qualified by folder) are sentences in
``index().attrs["warnings"]``; the cache logs them and keeps them in its ``info.json``.

Readers are picklable (they hold only paths and options) so that a process pool can call
``read`` in parallel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecgjepa_core.errors import UserFileError, require_file

STANDARD_12_LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)
# The 8 leads ECG-JEPA keeps (docs/data.md §1): I, II, V1–V6.
JEPA_8_LEADS: tuple[str, ...] = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")


@dataclass
class Record:
    """One ECG. ``signal`` is (n_leads, n_samples) float32 in mV, leads in ``lead_names`` order."""

    record_id: str
    signal: np.ndarray
    fs: float
    lead_names: tuple[str, ...]
    source: Path
    meta: dict[str, Any] = field(default_factory=dict)


class DatasetError(UserFileError):
    """The dataset as a whole is unusable (missing folder, missing or malformed metadata)."""


def read_metadata_csv(path: Path, required: Iterable[str] = (), **read_csv_kwargs) -> pd.DataFrame:
    """A dataset's metadata CSV; DatasetError naming the file if it is missing, unreadable or lacks
    any of the ``required`` columns."""
    require_file(path, "metadata file", DatasetError)
    try:
        table = pd.read_csv(path, **read_csv_kwargs)
    except Exception as err:
        raise DatasetError(path, f"unreadable CSV: {err}") from None
    if missing := set(required) - set(table.columns):
        raise DatasetError(path, f"missing columns {sorted(missing)} (columns {list(table.columns)})")
    return table


def left_out(index: pd.DataFrame) -> dict[str, list[str]]:
    """Skip reason → record ids a reader listed but left out of ``index`` (see the module docstring)."""
    return index.attrs.get("left_out", {})


def index_warnings(index: pd.DataFrame) -> list[str]:
    """Sentences a reader attached to ``index`` for the user (see the module docstring)."""
    return index.attrs.get("warnings", [])


def annotate_index(index: pd.DataFrame, left_out: dict[str, list[str]] | None = None,
                   warnings: list[str] | None = None) -> pd.DataFrame:
    """Attach left-out records (empty reasons dropped) and warnings to ``index``; returns it."""
    index.attrs["left_out"] = {reason: list(ids) for reason, ids in (left_out or {}).items() if len(ids)}
    index.attrs["warnings"] = list(warnings or [])
    return index


def record_locations(headers: Iterable[Path], root: Path) -> tuple[dict[str, Path], list[str]]:
    """record_id → path without extension for header files found under ``root``, and warnings.

    The id is the file name (``A0001``), so ids stay those of the dataset's papers and tables.
    A name found in several folders (``g1/A0002.hea`` and ``g2/A0002.hea``) would otherwise keep
    one record and silently hide the other: each copy is kept, with its id qualified by the
    folder (``g1/A0002``, ``g2/A0002``), and a warning names the paths.
    """
    by_name: dict[str, list[Path]] = {}
    for header in sorted(headers):
        by_name.setdefault(header.stem, []).append(header.with_suffix(""))
    locations, warnings = {}, []
    for name, bases in by_name.items():
        if len(bases) == 1:
            locations[name] = bases[0]
            continue
        qualified = {base.relative_to(root).as_posix(): base for base in bases}
        locations.update(qualified)
        warnings.append(f"{root}: record name {name} found {len(bases)} times "
                        f"({', '.join(str(b) + '.hea' for b in bases)}); kept each as {', '.join(qualified)}")
    return locations, warnings


class RecordError(UserFileError, ValueError):
    """One record is unusable. ``reason`` is a short stable key used to count skips."""

    def __init__(self, path: Path | str, reason: str, problem: str):
        self.reason = reason
        super().__init__(path, problem)


class RecordWarning(UserWarning):
    """A record is kept, but read with something the user must know (a negative ADC gain inverts a lead); the
    cache counts these (``info.json``: ``counts.record_warnings``, the sentences under ``warnings``)."""


_LEAD_BY_UPPER = {name.upper(): name for name in STANDARD_12_LEADS}


def standard_lead_rows(lead_names: list[str] | tuple[str, ...], path: Path | str) -> list[int]:
    """Row of each standard lead (I … V6 order) in a signal whose rows are named ``lead_names``.

    Names match case-insensitively (``AVR``, ``avr`` → aVR). An unknown name raises
    RecordError ``unknown_leads``; a standard lead absent or repeated raises ``missing_leads``.
    """
    canonical = [_LEAD_BY_UPPER.get(str(name).strip().upper()) for name in lead_names]
    unknown = [name for name, c in zip(lead_names, canonical) if c is None]
    if unknown:
        raise RecordError(path, "unknown_leads", f"unknown lead names {unknown} (expected the standard 12 leads)")
    missing = [lead for lead in STANDARD_12_LEADS if canonical.count(lead) != 1]
    if missing:
        raise RecordError(path, "missing_leads", f"leads {missing} missing or repeated in {list(lead_names)}")
    return [canonical.index(lead) for lead in STANDARD_12_LEADS]


def checked_signal(signal: np.ndarray, path: Path | str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Validate a (12, T) standard-order signal; return it as float32 and the names of its all-zero leads.

    NaN or ±inf raises RecordError ``nan``. All-zero leads are not an error here (the paper's
    invalid-sample rule belongs to preprocessing); readers report them in ``meta["zero_leads"]``.
    """
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 2 or signal.shape[1] == 0:
        raise RecordError(path, "empty_signal", f"signal has shape {signal.shape}, expected (12, T) with T > 0")
    if not np.isfinite(signal).all():
        bad = sorted({STANDARD_12_LEADS[i] for i in np.nonzero(~np.isfinite(signal))[0]},
                     key=STANDARD_12_LEADS.index)
        raise RecordError(path, "nan", f"NaN or infinite samples in leads {bad}")
    zero = tuple(STANDARD_12_LEADS[i] for i in np.nonzero(~signal.any(axis=1))[0])
    return signal, zero
