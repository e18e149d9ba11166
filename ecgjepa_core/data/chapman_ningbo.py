"""Chapman–Shaoxing–Ningbo reader (PhysioNet ``ecg-arrhythmia``: ``WFDBRecords/NN/NNN/*.hea|.mat``).

Paper rule (docs/data.md §2): records with ≥ ``min_samples`` samples are kept and cropped to
their first ``min_samples``; shorter ones raise RecordError ``too_short``. The Dx codes are
metadata only (pretraining uses no labels), so an empty Dx is not an error here.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

import pandas as pd

from ecgjepa_core.errors import require_folder
from ecgjepa_core.data.labels import parse_dx
from ecgjepa_core.data.records import (STANDARD_12_LEADS, DatasetError, Record, RecordError, annotate_index,
                                       record_locations)
from ecgjepa_core.data.wfdb_io import header_fields, header_path, read_header, read_wfdb_physical

FS = 500.0

log = logging.getLogger(__name__)


class ChapmanNingboReader:
    """Records under ``root`` (the ``WFDBRecords`` folder or its parent), two folder levels deep.

    ``index()`` reads headers only. Columns: ``record_id`` (e.g. ``JS20000``; ``20/200/JS20000`` when the
    name is in several folders, see ``record_locations``), subfolder
    (``20/200``), n_samples, fs, age, sex, dx (comma-joined SNOMED codes), ``skip_reason``
    (None, or the RecordError reason ``read`` will raise as far as the header tells).
    """

    classes: tuple[str, ...] = ()

    def __init__(self, root: Path | str, min_samples: int = 5000, crop: bool = True):
        self.root, self.min_samples, self.crop = Path(root), min_samples, crop

    @property
    def _locations(self) -> dict[str, Path]:
        """record_id → record path without extension (see ``record_locations``)."""
        return self._found[0]

    @cached_property
    def _found(self) -> tuple[dict[str, Path], list[str]]:
        require_folder(self.root, "Chapman–Ningbo folder", DatasetError)
        top = self.root / "WFDBRecords" if (self.root / "WFDBRecords").is_dir() else self.root
        headers = list(top.glob("*/*/*.hea"))
        if not headers:
            raise DatasetError(top, "no */*/*.hea records (expected WFDBRecords/NN/NNN/)")
        locations, warnings = record_locations(headers, top)
        for warning in warnings:
            log.warning(warning)
        return locations, warnings

    def _header_row(self, record_id: str, base: Path) -> dict:
        row = {"record_id": record_id, "subfolder": f"{base.parent.parent.name}/{base.parent.name}",
               "n_samples": None, "fs": None, "age": None, "sex": None, "dx": "", "skip_reason": None}
        try:
            header = read_header(base)
        except RecordError as err:
            return row | {"skip_reason": err.reason}
        fields = header_fields(header.comments)
        row |= {"n_samples": header.sig_len, "fs": header.fs, "age": fields.get("Age"), "sex": fields.get("Sex"),
                "dx": ",".join(parse_dx(fields.get("Dx", "")))}
        if header.sig_len < self.min_samples:
            row["skip_reason"] = "too_short"
        return row

    def index(self) -> pd.DataFrame:
        table = pd.DataFrame([self._header_row(rid, base) for rid, base in self._locations.items()])
        return annotate_index(table, warnings=self._found[1])

    def read(self, record_id: str) -> Record:
        base = self._locations.get(str(record_id))
        if base is None:
            raise RecordError(self.root / f"*/*/{record_id}.hea", "unknown_record", "no such record")
        header = read_header(base)
        if header.sig_len < self.min_samples:
            raise RecordError(header_path(base), "too_short", f"{header.sig_len} samples < {self.min_samples}")
        signal, _, zero_leads = read_wfdb_physical(base, FS, self.min_samples if self.crop else None, header)
        meta = {"dx": parse_dx(header_fields(header.comments).get("Dx", "")),
                "n_samples_original": header.sig_len, "zero_leads": zero_leads}
        return Record(str(record_id), signal, FS, STANDARD_12_LEADS, header_path(base), meta)

    def __getstate__(self) -> dict:
        return {k: self.__dict__[k] for k in ("root", "min_samples", "crop")}
