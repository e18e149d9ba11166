"""LUDB reader: 200 records (12 leads, 500 Hz, 10 s) with cardiologists' per-lead P/QRS/T annotations.

Annotation files ``data/N.<lead>`` (``i``, ``ii``, … ``v6``) hold ``(`` onset, a peak symbol
(``p`` P wave, ``N`` QRS, ``t`` T wave) and ``)`` offset. A few waves lack their onset or offset
or have them out of place (e.g. ``p)N()(t``), so each peak takes the *last* ``(`` between the
previous peak and itself as onset and the *first* ``)`` between itself and the next peak as
offset; a wave without one has NA there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

from ecgjepa_core.errors import require_folder
from ecgjepa_core.data.records import (STANDARD_12_LEADS, DatasetError, Record, RecordError, annotate_index,
                                       read_metadata_csv)
from ecgjepa_core.data.wfdb_io import header_fields, header_path, read_header, read_wfdb_physical

FS = 500.0
WAVE_NAMES = {"p": "P", "N": "QRS", "t": "T"}
ANNOTATION_EXTENSIONS = {lead: lead.lower() for lead in STANDARD_12_LEADS}
# Longest wave accepted, onset to offset. LUDB's longest are P 302 ms, QRS 260 ms, T 396 ms.
MAX_WAVE_MS = 600.0


def annotation_problem(symbols: list[str], samples: np.ndarray, n_samples: int) -> str | None:
    """Why a ``( peak )`` annotation sequence is not a LUDB delineation, or None if it is one.

    Checked: only the symbols ``( ) p N t``; sample positions strictly increasing inside the
    record (0 … ``n_samples`` − 1); at least one QRS; every wave's onset-to-offset span at most
    ``MAX_WAVE_MS``. All 2,400 annotation files of LUDB 1.0.1 pass; random bytes read by
    ``wfdb.rdann`` do not.
    """
    if unknown := sorted({str(s) for s in symbols} - {"(", ")", *WAVE_NAMES}):
        return f"symbols {unknown[:8]} are not LUDB's ( p N t )"
    samples = np.asarray(samples, dtype=np.int64)
    if samples.size and (samples.min() < 0 or samples.max() >= n_samples):
        return f"annotation at samples {samples.min()}…{samples.max()}, outside the record (0…{n_samples - 1})"
    if np.any(np.diff(samples) <= 0):
        return "sample positions are not strictly increasing"
    waves = waves_from_annotation(list(symbols), samples)
    if not (waves["wave"] == "QRS").any():
        return "no QRS annotated"
    span_ms = (waves["offset"] - waves["onset"]).dropna().astype(float) * 1000.0 / FS
    if (long := waves.loc[span_ms.index[span_ms > MAX_WAVE_MS]]).size:
        first = long.iloc[0]
        return (f"{len(long)} waves longer than {MAX_WAVE_MS:g} ms onset to offset "
                f"(e.g. {first['wave']} {first['onset']}…{first['offset']})")
    return None


def read_annotation(base: Path, lead: str, fs: float = FS) -> tuple[list[str], np.ndarray]:
    """(symbols, sample positions) of lead ``lead``'s annotation file ``<base>.<lead>`` of record ``base``.

    RecordError naming the file: ``missing_file``, or ``bad_annotation`` where wfdb cannot read it or where it
    states a sampling rate other than the record's ``fs`` (its positions would otherwise be read at the
    record's rate: at 250 Hz for a 500 Hz record, every interval halved). A file that states no rate is taken
    at the record's, as WFDB does.
    """
    extension = ANNOTATION_EXTENSIONS[lead]
    path = base.parent / f"{base.name}.{extension}"
    if not path.is_file():
        raise RecordError(path, "missing_file", f"annotation file of lead {lead} not found")
    try:
        ann = wfdb.rdann(str(base), extension)
    except Exception as err:
        raise RecordError(path, "bad_annotation", f"wfdb could not read the annotation: {err}") from None
    if ann.fs is not None and not np.isclose(float(ann.fs), fs):
        raise RecordError(path, "bad_annotation", f"annotation of lead {lead} at {float(ann.fs):g} Hz, the record at "
                                                  f"{fs:g} Hz: its sample positions do not index the record's samples")
    return list(ann.symbol), np.asarray(ann.sample)


def waves_from_annotation(symbols: list[str], samples: np.ndarray) -> pd.DataFrame:
    """Rows (wave, onset, peak, offset) in sample indices from a WFDB ``( peak )`` annotation sequence."""
    peaks = [i for i, s in enumerate(symbols) if s not in ("(", ")")]
    bounds = [-1, *peaks, len(symbols)]
    rows = []
    for k, i in enumerate(peaks):
        before = [j for j in range(bounds[k] + 1, i) if symbols[j] == "("]
        after = [j for j in range(i + 1, bounds[k + 2]) if symbols[j] == ")"]
        rows.append({"wave": WAVE_NAMES.get(symbols[i], symbols[i]),
                     "onset": samples[before[-1]] if before else pd.NA,
                     "peak": samples[i],
                     "offset": samples[after[0]] if after else pd.NA})
    table = pd.DataFrame(rows, columns=["wave", "onset", "peak", "offset"])
    return table.astype({"onset": "Int64", "peak": "Int64", "offset": "Int64"})


class LudbReader:
    """LUDB 1.0.1 under ``root`` (holding ``ludb.csv`` and ``data/``).

    ``index()`` columns: ``record_id`` (``"1"`` … ``"200"``) then the ludb.csv columns
    (Sex, Age, Rhythms, …, stripped of stray newlines). ``read`` returns the physical signal with
    ``meta["annotations"]`` = :meth:`annotations`; ``meta["diagnoses"]`` the header's diagnosis lines.
    """

    classes: tuple[str, ...] = ()

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def index(self) -> pd.DataFrame:
        """ludb.csv rows whose record is in ``data/``; rows without a header file are left out
        (``attrs["left_out"]["missing_file"]``). DatasetError if no record is there at all."""
        require_folder(self.root / "data", "LUDB data folder", DatasetError)
        table = read_metadata_csv(self.root / "ludb.csv", ["ID"], dtype=str)
        table = table.apply(lambda column: column.str.strip())
        table.insert(0, "record_id", table.pop("ID"))
        if table["record_id"].isna().any() or table["record_id"].duplicated().any():
            raise DatasetError(self.root / "ludb.csv", "ID column has empty or repeated values")
        present = np.array([header_path(self.root / "data" / rid).is_file() for rid in table["record_id"]], bool)
        if not present.any():
            raise DatasetError(self.root / "data", f"none of the {len(table)} records of ludb.csv found (N.hea)")
        left_out = {"missing_file": table.loc[~present, "record_id"].tolist()}
        return annotate_index(table[present].reset_index(drop=True), left_out)

    def annotations(self, record_id: str) -> dict[str, pd.DataFrame]:
        """Lead name (I … V6) → DataFrame (wave ∈ {P, QRS, T}, onset, peak, offset) in samples.

        RecordError ``missing_file`` / ``bad_annotation`` (with ``annotation_problem``'s reason)
        naming the lead's file.
        """
        base = self.root / "data" / str(record_id)
        header = read_header(base)
        per_lead = {}
        for lead, extension in ANNOTATION_EXTENSIONS.items():
            path = base.parent / f"{base.name}.{extension}"
            symbols, samples = read_annotation(base, lead, float(header.fs))
            if problem := annotation_problem(symbols, samples, header.sig_len):
                raise RecordError(path, "bad_annotation", f"not a delineation of lead {lead}: {problem}")
            per_lead[lead] = waves_from_annotation(symbols, samples)
        return per_lead

    def read(self, record_id: str) -> Record:
        base = self.root / "data" / str(record_id)
        signal, header, zero_leads = read_wfdb_physical(base, FS)
        diagnoses = [c.strip() for c in header.comments if not c.strip().startswith("<")]
        fields = header_fields(header.comments)
        meta = {"age": fields.get("<age>"), "sex": fields.get("<sex>"), "diagnoses": diagnoses,
                "annotations": self.annotations(record_id), "zero_leads": zero_leads}
        return Record(str(record_id), signal, FS, STANDARD_12_LEADS, header_path(base), meta)
