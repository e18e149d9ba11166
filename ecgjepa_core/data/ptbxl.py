"""PTB-XL reader: official layout (``ptbxl_database.csv``, ``scp_statements.csv``, ``records500``/``records100``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pandas as pd

from .labels import PTBXL_TASKS, parse_scp_codes, ptbxl_classes, ptbxl_multi_hot, read_scp_statements
from .records import STANDARD_12_LEADS, DatasetError, Record, RecordError, read_metadata_csv
from .wfdb_io import header_path, read_wfdb_physical

_FILENAME_COLUMN = {500: "filename_hr", 100: "filename_lr"}
_METADATA = ["ecg_id", "patient_id", "strat_fold", "age", "sex"]


class PtbxlReader:
    """PTB-XL v1.0.x in its official folder ``root``.

    ``sampling_rate`` 500 reads ``records500`` (the paper's choice), 100 reads ``records100``.
    ``task`` picks the label set (see :mod:`.labels`); its classes are ``self.classes``.
    ``index()`` columns: ``record_id`` (str(ecg_id)), ecg_id, patient_id, strat_fold, age, sex,
    filename, scp_codes (dict), then one 0/1 column per class. Rows whose header file is absent
    (e.g. only part of PTB-XL downloaded) are left out; their count is in ``index().attrs["missing_files"]``.
    """

    def __init__(self, root: Path | str, sampling_rate: int = 500, task: str = "superdiagnostic"):
        if sampling_rate not in _FILENAME_COLUMN:
            raise ValueError(f"sampling_rate must be 500 or 100, got {sampling_rate}")
        if task not in PTBXL_TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {PTBXL_TASKS}")
        self.root, self.sampling_rate, self.task = Path(root), sampling_rate, task

    @property
    def classes(self) -> tuple[str, ...]:
        return ptbxl_classes(self._statements, self.task)

    @cached_property
    def _statements(self) -> pd.DataFrame:
        if not self.root.is_dir():
            raise DatasetError(self.root, "PTB-XL folder not found")
        return read_scp_statements(self.root / "scp_statements.csv")

    def _database(self) -> pd.DataFrame:
        path = self.root / "ptbxl_database.csv"
        if not self.root.is_dir():
            raise DatasetError(self.root, "PTB-XL folder not found")
        table = read_metadata_csv(path, [*_METADATA, "scp_codes", _FILENAME_COLUMN[self.sampling_rate]])
        if table["ecg_id"].isna().any() or table["ecg_id"].duplicated().any():
            raise DatasetError(path, "ecg_id column has empty or repeated values")
        table["scp_codes"] = [
            parse_scp_codes(text, f"{path} (ecg_id {ecg_id})") for text, ecg_id in zip(table["scp_codes"], table["ecg_id"])
        ]
        return table

    def index(self) -> pd.DataFrame:
        table = self._database()
        table = table.assign(filename=table[_FILENAME_COLUMN[self.sampling_rate]])
        present = [header_path(self.root / f).is_file() for f in table["filename"]]
        n_missing = len(table) - sum(present)
        table = table[present].reset_index(drop=True)
        if table.empty:
            raise DatasetError(self.root, f"no record of ptbxl_database.csv found under records{self.sampling_rate}")
        labels = ptbxl_multi_hot(table["scp_codes"], self._statements, self.task)
        out = pd.concat([table[_METADATA + ["filename", "scp_codes"]], labels], axis=1)
        out.insert(0, "record_id", out["ecg_id"].astype(int).astype(str))
        out.attrs["missing_files"] = n_missing
        return out

    @cached_property
    def _rows(self) -> dict[str, dict]:
        return {row["record_id"]: row for row in self.index().to_dict("records")}

    def read(self, record_id: str) -> Record:
        row = self._rows.get(str(record_id))
        if row is None:
            raise RecordError(self.root / "ptbxl_database.csv", "unknown_record", f"no record with ecg_id {record_id}")
        base = self.root / row["filename"]
        signal, _, zero_leads = read_wfdb_physical(base, expected_fs=self.sampling_rate)
        labels = {c: int(row[c]) for c in self.classes}
        meta = {k: row[k] for k in _METADATA + ["scp_codes"]} | {"labels": labels, "zero_leads": zero_leads}
        return Record(str(record_id), signal, float(self.sampling_rate), STANDARD_12_LEADS, header_path(base), meta)

    def __getstate__(self) -> dict:
        # Drop cached tables so a pickled reader holds only paths and options.
        return {k: self.__dict__[k] for k in ("root", "sampling_rate", "task")}
