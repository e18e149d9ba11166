"""CPSC2018 reader, in the PhysioNet/CinC Challenge 2020 layout (``g1 … g7`` of ``.hea`` + ``.mat``).

Paper rules (docs/data.md §4, §8 D4): records shorter than ``min_samples`` (10 s at 500 Hz)
are dropped (RecordError ``too_short``), longer ones are cropped to their first ``min_samples``;
an empty or absent ``#Dx:`` is dropped (``no_label``). A SNOMED code outside the 9 classes
raises ``unknown_code``: the paper's vocabulary is "every code seen", which on CPSC2018 is exactly
these 9, so a tenth code means different data, not a tenth class.
"""

from __future__ import annotations

import logging
import re
from functools import cached_property
from pathlib import Path

import pandas as pd

from ecgjepa_core.errors import require_folder
from ecgjepa_core.data.labels import CPSC2018_CODES, cpsc_multi_hot, parse_dx
from ecgjepa_core.data.records import (STANDARD_12_LEADS, DatasetError, Record, RecordError, annotate_index,
                                       record_locations)
from ecgjepa_core.data.wfdb_io import header_fields, header_path, read_header, read_wfdb_physical

FS = 500.0
_FOLDER = re.compile(r"^g\d+$")

log = logging.getLogger(__name__)


def label_problem(codes: tuple[str, ...]) -> tuple[str, str] | None:
    """(reason, problem) if a Dx code list cannot be used as CPSC2018 labels, else None."""
    if not codes:
        return "no_label", "empty or absent #Dx: comment"
    if unknown := [c for c in codes if c not in CPSC2018_CODES]:
        return "unknown_code", f"SNOMED codes {unknown} are not among the 9 CPSC2018 classes"
    return None


class Cpsc2018Reader:
    """CPSC2018 under ``root`` (the folder holding ``g1`` … ``g7``, e.g. ``training/cpsc_2018``).

    ``index()`` reads headers only. Columns: ``record_id`` (e.g. ``A0001``; ``g1/A0001`` when the name
    is in several folders, see ``record_locations``), folder (``g1`` …),
    n_samples, fs, age, sex, dx (comma-joined codes as in the header), one 0/1 column per class
    named by its SNOMED code in ``CPSC2018_CODES`` order, and ``skip_reason`` (None, or the
    RecordError reason that ``read`` will raise, as far as the header tells).
    """

    classes: tuple[str, ...] = CPSC2018_CODES

    def __init__(self, root: Path | str, min_samples: int = 5000, crop: bool = True):
        self.root, self.min_samples, self.crop = Path(root), min_samples, crop

    @property
    def _locations(self) -> dict[str, Path]:
        """record_id → record path without extension, over every gK folder (see ``record_locations``)."""
        return self._found[0]

    @cached_property
    def _found(self) -> tuple[dict[str, Path], list[str]]:
        require_folder(self.root, "CPSC2018 folder", DatasetError)
        folders = sorted((p for p in self.root.iterdir() if p.is_dir() and _FOLDER.match(p.name)),
                         key=lambda p: int(p.name[1:]))
        if not folders:
            raise DatasetError(self.root, "no g1 … g7 folders (expected the Challenge 2020 layout)")
        headers = [h for folder in folders for h in folder.glob("*.hea")]
        if not headers:
            raise DatasetError(self.root, f"no *.hea records in {', '.join(f.name for f in folders)}")
        locations, warnings = record_locations(headers, self.root)
        for warning in warnings:
            log.warning(warning)
        return locations, warnings

    def _header_row(self, record_id: str, base: Path) -> dict:
        row = {"record_id": record_id, "folder": base.parent.name, "n_samples": None, "fs": None,
               "age": None, "sex": None, "dx": "", "skip_reason": None}
        try:
            header = read_header(base)
        except RecordError as err:
            return row | {"skip_reason": err.reason}
        fields = header_fields(header.comments)
        codes = parse_dx(fields.get("Dx", ""))
        problem = label_problem(codes)
        row |= {"n_samples": header.sig_len, "fs": header.fs, "age": fields.get("Age"),
                "sex": fields.get("Sex"), "dx": ",".join(codes)}
        row |= dict(zip(CPSC2018_CODES, cpsc_multi_hot(codes).tolist()))
        if problem:
            row["skip_reason"] = problem[0]
        elif header.sig_len < self.min_samples:
            row["skip_reason"] = "too_short"
        return row

    def index(self) -> pd.DataFrame:
        rows = [self._header_row(rid, base) for rid, base in self._locations.items()]
        table = pd.DataFrame(rows, columns=["record_id", "folder", "n_samples", "fs", "age", "sex", "dx",
                                            *CPSC2018_CODES, "skip_reason"])
        table[list(CPSC2018_CODES)] = table[list(CPSC2018_CODES)].fillna(0).astype("int8")
        return annotate_index(table, warnings=self._found[1])

    def read(self, record_id: str) -> Record:
        base = self._locations.get(str(record_id))
        if base is None:
            raise RecordError(self.root / f"*/{record_id}.hea", "unknown_record", "no such record in any gK folder")
        hea = header_path(base)
        header = read_header(base)
        codes = parse_dx(header_fields(header.comments).get("Dx", ""))
        if problem := label_problem(codes):
            raise RecordError(hea, *problem)
        if header.sig_len < self.min_samples:
            raise RecordError(hea, "too_short", f"{header.sig_len} samples < {self.min_samples} (10 s)")
        signal, _, zero_leads = read_wfdb_physical(base, FS, self.min_samples if self.crop else None, header)
        meta = {"folder": base.parent.name, "dx": codes, "labels": cpsc_multi_hot(codes),
                "n_samples_original": header.sig_len, "zero_leads": zero_leads}
        return Record(str(record_id), signal, FS, STANDARD_12_LEADS, hea, meta)

    def __getstate__(self) -> dict:
        return {k: self.__dict__[k] for k in ("root", "min_samples", "crop")}
