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

from .records import STANDARD_12_LEADS, DatasetError, Record, RecordError, read_metadata_csv
from .wfdb_io import header_fields, header_path, read_wfdb_physical

FS = 500.0
WAVE_NAMES = {"p": "P", "N": "QRS", "t": "T"}
ANNOTATION_EXTENSIONS = {lead: lead.lower() for lead in STANDARD_12_LEADS}


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
        if not (self.root / "data").is_dir():
            raise DatasetError(self.root / "data", "LUDB data folder not found")
        table = read_metadata_csv(self.root / "ludb.csv", ["ID"], dtype=str)
        table = table.apply(lambda column: column.str.strip())
        table.insert(0, "record_id", table.pop("ID"))
        present = [header_path(self.root / "data" / rid).is_file() for rid in table["record_id"]]
        return table[present].reset_index(drop=True)

    def annotations(self, record_id: str) -> dict[str, pd.DataFrame]:
        """Lead name (I … V6) → DataFrame (wave ∈ {P, QRS, T}, onset, peak, offset) in samples."""
        per_lead = {}
        for lead, extension in ANNOTATION_EXTENSIONS.items():
            path = self.root / "data" / f"{record_id}.{extension}"
            if not path.is_file():
                raise RecordError(path, "missing_file", f"annotation file of lead {lead} not found")
            try:
                ann = wfdb.rdann(str(self.root / "data" / str(record_id)), extension)
            except Exception as err:
                raise RecordError(path, "bad_annotation", f"wfdb could not read the annotation: {err}") from None
            per_lead[lead] = waves_from_annotation(list(ann.symbol), np.asarray(ann.sample))
        return per_lead

    def read(self, record_id: str) -> Record:
        base = self.root / "data" / str(record_id)
        signal, header, zero_leads = read_wfdb_physical(base, FS)
        diagnoses = [c.strip() for c in header.comments if not c.strip().startswith("<")]
        fields = header_fields(header.comments)
        meta = {"age": fields.get("<age>"), "sex": fields.get("<sex>"), "diagnoses": diagnoses,
                "annotations": self.annotations(record_id), "zero_leads": zero_leads}
        return Record(str(record_id), signal, FS, STANDARD_12_LEADS, header_path(base), meta)
