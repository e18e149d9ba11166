""""Bring your own arrays" reader, in the ``ptbxl_subset`` format.

A folder with ``signals_<fs>hz.npy`` (N, L, T), ``records.csv`` (one row per array row, same
order; ``ecg_id`` names the records when present) and optionally ``statements.csv``
(``ecg_id`` + one 0/1 column per statement, joined on ecg_id). The array is memory-mapped,
so only the rows read are loaded. Units are whatever the arrays hold: ``ptbxl_subset`` is
band-passed and z-scored per lead, not mV (see ``meta["units"]``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.errors import require_file, require_folder
from ecgjepa_core.data.records import (STANDARD_12_LEADS, DatasetError, Record, RecordError, checked_signal, read_metadata_csv,
                      standard_lead_rows)

_FS_IN_NAME = re.compile(r"_(\d+(?:\.\d+)?)hz\.npy$", re.IGNORECASE)


def fs_from_file_name(path: Path) -> float | None:
    """``signals_250hz.npy`` → 250.0; None if the name carries no rate."""
    match = _FS_IN_NAME.search(path.name)
    return float(match.group(1)) if match else None


def _integer_ids(column: pd.Series, path: Path) -> pd.Series:
    """An ``ecg_id`` column as int64; DatasetError naming ``path`` and the bad values otherwise."""
    ids = pd.to_numeric(column, errors="coerce")
    if bad := column[ids.isna() | (ids % 1 != 0)].tolist():
        raise DatasetError(path, f"ecg_id column has empty or non-integer values {bad[:5]}")
    return ids.astype(np.int64)


class ArraysReader:
    """Arrays under ``root``.

    ``fs``: sampling rate, else parsed from the file name (DatasetError if neither).
    ``signals_file``: the .npy name when the folder holds several ``signals_*.npy``.
    ``lead_names``: names of the L rows (mapped to the standard 12, case-insensitive).
    ``units``: recorded in ``meta["units"]``.
    ``index()`` columns: ``record_id`` (str(ecg_id), or the row number without ecg_id), ``row``,
    the records.csv columns, then the statements.csv columns prefixed ``scp_`` (``NORM`` is both a
    superclass in records.csv and a statement) if that file exists.
    """

    def __init__(self, root: Path | str, fs: float | None = None, signals_file: str | None = None,
                 lead_names: tuple[str, ...] = STANDARD_12_LEADS,
                 units: str = "as stored (ptbxl_subset: band-passed 0.5-40 Hz, z-scored per lead)"):
        self.root, self.signals_file, self.lead_names, self.units = Path(root), signals_file, tuple(lead_names), units
        self.fs = fs if fs is not None else fs_from_file_name(self._signals_path())
        if self.fs is None or not self.fs > 0:
            raise DatasetError(self._signals_path(), "sampling rate neither given (fs=) nor in the file name (*_250hz.npy)")
        self._rows_of_leads = standard_lead_rows(self.lead_names, self.root)
        self._array: np.ndarray | None = None
        self._row_of: dict[str, int] | None = None

    def _signals_path(self) -> Path:
        require_folder(self.root, "arrays folder", DatasetError)
        if self.signals_file:
            return require_file(self.root / self.signals_file, "signals file", DatasetError)
        found = sorted(self.root.glob("signals_*.npy"))
        if len(found) != 1:
            raise DatasetError(self.root, f"expected one signals_*.npy, found {[p.name for p in found]}; pass signals_file=")
        return require_file(found[0], "signals file", DatasetError)

    def _signals(self) -> np.ndarray:
        """(N, L, T) memory map of the signals file."""
        if self._array is None:
            path = self._signals_path()
            try:
                array = np.load(path, mmap_mode="r")
            except Exception as err:
                raise DatasetError(path, f"not a readable .npy array: {err}") from None
            if array.ndim != 3 or array.shape[1] != len(self.lead_names):
                raise DatasetError(path, f"shape {array.shape}, expected (N, {len(self.lead_names)}, T)")
            self._array = array
        return self._array

    def index(self) -> pd.DataFrame:
        records, n_rows = read_metadata_csv(self.root / "records.csv"), len(self._signals())
        if len(records) != n_rows:
            raise DatasetError(self.root / "records.csv", f"{len(records)} rows but the signals array has {n_rows}")
        records.insert(0, "row", np.arange(n_rows))
        if "ecg_id" in records:
            records["ecg_id"] = _integer_ids(records["ecg_id"], self.root / "records.csv")
        ids = records["ecg_id"].astype(str) if "ecg_id" in records else records["row"].astype(str)
        if ids.duplicated().any():
            raise DatasetError(self.root / "records.csv", f"repeated ecg_id values {sorted(set(ids[ids.duplicated()]))[:5]}")
        records.insert(0, "record_id", ids)
        if (self.root / "statements.csv").is_file():
            path = self.root / "statements.csv"
            statements = read_metadata_csv(path)
            if "ecg_id" not in statements or "ecg_id" not in records:
                raise DatasetError(path, "statements.csv and records.csv need an ecg_id column")
            statements["ecg_id"] = _integer_ids(statements["ecg_id"], path)
            if (repeated := statements.loc[statements["ecg_id"].duplicated(), "ecg_id"]).size:
                raise DatasetError(path, f"ecg_id {sorted(set(repeated))[:5]} listed more than once")
            statements = statements.set_index("ecg_id").add_prefix("scp_").reset_index()
            records = records.merge(statements, on="ecg_id", how="left")
        return records

    def read(self, record_id: str) -> Record:
        if self._row_of is None:
            index = self.index()
            self._row_of = dict(zip(index["record_id"], index["row"]))
        if str(record_id) not in self._row_of:
            raise RecordError(self.root / "records.csv", "unknown_record", f"no record {record_id}")
        row = int(self._row_of[str(record_id)])
        where = f"{self._signals_path()}[{row}]"
        signal, zero_leads = checked_signal(self._signals()[row][self._rows_of_leads], where)
        meta = {"row": row, "units": self.units, "zero_leads": zero_leads}
        return Record(str(record_id), signal, float(self.fs), STANDARD_12_LEADS, self._signals_path(), meta)

    def __getstate__(self) -> dict:
        return self.__dict__ | {"_array": None, "_row_of": None}  # a memory map is reopened, not pickled
