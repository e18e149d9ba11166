"""PTB-XL reader: official layout (``ptbxl_database.csv``, ``scp_statements.csv``, ``records500``/``records100``)."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.errors import require_folder
from ecgjepa_core.data.labels import (PTBXL_TASKS, parse_scp_codes, ptbxl_classes, ptbxl_multi_hot,
                                      read_scp_statements, unknown_scp_codes)
from ecgjepa_core.data.records import (STANDARD_12_LEADS, DatasetError, Record, RecordError, annotate_index,
                                       read_metadata_csv)
from ecgjepa_core.data.wfdb_io import header_path, read_wfdb_physical

_FILENAME_COLUMN = {500: "filename_hr", 100: "filename_lr"}
_METADATA = ["ecg_id", "patient_id", "strat_fold", "age", "sex"]
UNKNOWN_CODE_POLICIES = ("count", "fail")

log = logging.getLogger(__name__)


class PtbxlReader:
    """PTB-XL v1.0.x in its official folder ``root``.

    ``sampling_rate`` 500 reads ``records500`` (the paper's choice), 100 reads ``records100``.
    ``task`` picks the label set (see :mod:`.labels`); its classes are ``self.classes``.
    ``index()`` columns: ``record_id`` (str(ecg_id)), ecg_id, patient_id, strat_fold, age, sex,
    filename, scp_codes (dict), then one 0/1 column per class. Rows whose header file is absent
    (e.g. only part of PTB-XL downloaded) or whose strat_fold is not an integer 1–10 are left out
    and listed in ``index().attrs["left_out"]`` (reasons ``missing_file``, ``bad_strat_fold``).

    ``unknown_codes``: what an scp_codes entry absent from ``scp_statements.csv`` does (it can
    label nothing, so the record may lose its label): ``"count"`` names the codes and their records
    in ``index().attrs["warnings"]`` (and the log); ``"fail"`` raises DatasetError.
    """

    def __init__(self, root: Path | str, sampling_rate: int = 500, task: str = "superdiagnostic",
                 unknown_codes: str = "count"):
        if sampling_rate not in _FILENAME_COLUMN:
            raise ValueError(f"sampling_rate must be 500 or 100, got {sampling_rate}")
        if task not in PTBXL_TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {PTBXL_TASKS}")
        if unknown_codes not in UNKNOWN_CODE_POLICIES:
            raise ValueError(f"unknown_codes must be one of {UNKNOWN_CODE_POLICIES}, got {unknown_codes!r}")
        self.root, self.sampling_rate, self.task = Path(root), sampling_rate, task
        self.unknown_codes = unknown_codes

    @property
    def classes(self) -> tuple[str, ...]:
        return ptbxl_classes(self._statements, self.task)

    @cached_property
    def _statements(self) -> pd.DataFrame:
        require_folder(self.root, "PTB-XL folder", DatasetError)
        return read_scp_statements(self.root / "scp_statements.csv")

    def _database(self) -> pd.DataFrame:
        path = self.root / "ptbxl_database.csv"
        require_folder(self.root, "PTB-XL folder", DatasetError)
        table = read_metadata_csv(path, [*_METADATA, "scp_codes", _FILENAME_COLUMN[self.sampling_rate]])
        ecg_id = pd.to_numeric(table["ecg_id"], errors="coerce")
        if bad := table.loc[ecg_id.isna() | (ecg_id % 1 != 0), "ecg_id"].tolist():
            raise DatasetError(path, f"ecg_id column has empty or non-integer values {bad[:5]}")
        if (repeated := ecg_id[ecg_id.duplicated()]).size:
            raise DatasetError(path, f"ecg_id column has repeated values {sorted(set(repeated.astype(int)))[:5]}")
        table["ecg_id"] = ecg_id.astype(int)
        if (filenames := table[_FILENAME_COLUMN[self.sampling_rate]]).isna().any():
            raise DatasetError(path, f"empty {filenames.name} for ecg_id {table.loc[filenames.isna(), 'ecg_id'].tolist()[:5]}")
        table["scp_codes"] = [
            parse_scp_codes(text, f"{path} (ecg_id {ecg_id})") for text, ecg_id in zip(table["scp_codes"], table["ecg_id"])
        ]
        return table

    def index(self) -> pd.DataFrame:
        table = self._database()
        table = table.assign(filename=table[_FILENAME_COLUMN[self.sampling_rate]],
                             record_id=table["ecg_id"].astype(str))
        fold = pd.to_numeric(table["strat_fold"], errors="coerce")
        good_fold = fold.isin(range(1, 11)).to_numpy()
        present = np.array([header_path(self.root / str(f)).is_file() for f in table["filename"]])
        left_out = {"missing_file": table.loc[~present, "record_id"].tolist(),
                    "bad_strat_fold": table.loc[present & ~good_fold, "record_id"].tolist()}
        table = table[present & good_fold].reset_index(drop=True)
        if table.empty:
            raise DatasetError(self.root, f"no record of ptbxl_database.csv found under records{self.sampling_rate} "
                                          f"with a strat_fold 1-10 ({len(left_out['missing_file'])} files absent)")
        table["strat_fold"] = table["strat_fold"].astype(float).astype(int)
        warnings = self._unknown_code_warnings(table)
        labels = ptbxl_multi_hot(table["scp_codes"], self._statements, self.task)
        out = pd.concat([table[["record_id", *_METADATA, "filename", "scp_codes"]], labels], axis=1)
        return annotate_index(out, left_out, warnings)

    def _unknown_code_warnings(self, table: pd.DataFrame) -> list[str]:
        """Sentences naming scp_codes absent from scp_statements.csv; DatasetError under ``unknown_codes="fail"``."""
        unknown = unknown_scp_codes(dict(zip(table["record_id"], table["scp_codes"])), self._statements)
        if not unknown:
            return []
        listing = "; ".join(f"{code} in {len(ids)} records (ecg_id {', '.join(ids[:3])}{', …' if len(ids) > 3 else ''})"
                            for code, ids in sorted(unknown.items()))
        if self.unknown_codes == "fail":
            raise DatasetError(self.root / "ptbxl_database.csv",
                               f"scp_codes not in scp_statements.csv: {listing} (unknown_codes='fail')")
        message = (f"{self.root / 'ptbxl_database.csv'}: scp_codes not in scp_statements.csv label nothing: "
                   f"{listing}; pass unknown_codes='fail' to stop instead")
        log.warning(message)
        return [message]

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
        return {k: self.__dict__[k] for k in ("root", "sampling_rate", "task", "unknown_codes")}
