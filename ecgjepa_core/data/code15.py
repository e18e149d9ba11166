"""CODE-15% reader: ``exams_part*.hdf5`` (``tracings`` (N, 4096, 12) at 400 Hz, ``exam_id`` (N,)) + ``exams.csv``.

Two modes (docs/data.md §2; docs/method_kim.md §11):

* ``paper``: a tracing is kept iff its first 10 samples × 12 leads are not all exactly zero
  (the authors' test for "not zero-padded"); all 4096 samples are returned. ``index()`` lists
  only kept exams; ``read`` of a dropped one raises RecordError ``zero_start``.
* ``strip_padding``: every exam is listed; ``read`` removes the symmetric zero padding the
  official files add to short exams (leading and trailing all-zero samples, equal counts ± 1)
  and returns the unpadded samples. Zero runs that are not symmetric are left in place.

Values are returned as stored (mV here). Tracings stay on disk: one row is read per call.
Rows with exam_id 0 are filler rows, not exams, and are not listed.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from ecgjepa_core.errors import require_folder
from ecgjepa_core.data.records import (STANDARD_12_LEADS, DatasetError, Record, RecordError, annotate_index,
                                       checked_signal, read_metadata_csv)

FS = 400.0
MODES = ("paper", "strip_padding")
_PAPER_PROBE_SAMPLES = 10
_ROWS_PER_BLOCK = 4096  # bounds memory of the index pass


def paper_keep_mask(first_samples: np.ndarray) -> np.ndarray:
    """(N,) bool from (N, S, 12) first samples: True unless all S × 12 values are exactly zero."""
    return np.any(first_samples != 0, axis=(1, 2))


def zero_padding(tracing: np.ndarray) -> tuple[int, int]:
    """(leading, trailing) counts of all-zero samples of a (T, 12) tracing (a fully zero one → (T, 0))."""
    nonzero = np.flatnonzero(np.any(tracing != 0, axis=1))
    if nonzero.size == 0:
        return len(tracing), 0
    return int(nonzero[0]), int(len(tracing) - 1 - nonzero[-1])


def _tracings(file: h5py.File, path: Path) -> tuple[h5py.Dataset, np.ndarray]:
    """The file's ``tracings`` dataset and ``exam_id`` array, or DatasetError naming what is wrong."""
    if "tracings" not in file or "exam_id" not in file:
        raise DatasetError(path, f"HDF5 file lacks 'tracings' and/or 'exam_id' (has {sorted(file.keys())})")
    tracings, exam_id = file["tracings"], file["exam_id"][()]
    if tracings.ndim != 3 or tracings.shape[2] != 12 or len(exam_id) != tracings.shape[0]:
        raise DatasetError(path, f"tracings {tracings.shape} / exam_id {exam_id.shape}: expected (N, T, 12) / (N,)")
    return tracings, exam_id


class Code15Reader:
    """CODE-15% under ``root`` (folder of ``exams_part*.hdf5`` and ``exams.csv``).

    ``index()`` columns: ``record_id`` (str(exam_id)), exam_id, h5_file, h5_row, then the
    columns of exams.csv (age, is_male, patient_id, trace_file, and diagnoses when present).
    """

    classes: tuple[str, ...] = ()

    def __init__(self, root: Path | str, mode: str = "paper"):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.root, self.mode = Path(root), mode

    def _files(self) -> list[Path]:
        require_folder(self.root, "CODE-15 folder", DatasetError)
        files = sorted(self.root.glob("exams_part*.hdf5"), key=lambda p: int("".join(filter(str.isdigit, p.stem)) or 0))
        if not files:
            raise DatasetError(self.root, "no exams_part*.hdf5 files")
        return files

    def _file_rows(self, path: Path) -> pd.DataFrame:
        """exam_id and row of each listed tracing of one file (paper mode: only the kept ones)."""
        try:
            with h5py.File(path, "r") as file:
                tracings, exam_id = _tracings(file, path)
                keep = exam_id != 0
                if self.mode == "paper":
                    for start in range(0, len(exam_id), _ROWS_PER_BLOCK):
                        block = tracings[start : start + _ROWS_PER_BLOCK, :_PAPER_PROBE_SAMPLES, :]
                        keep[start : start + len(block)] &= paper_keep_mask(block)
        except OSError as err:
            raise DatasetError(path, f"not a readable HDF5 file: {err}") from None
        rows = np.flatnonzero(keep)
        return pd.DataFrame({"exam_id": exam_id[rows], "h5_file": path.name, "h5_row": rows})

    def _exams_csv(self) -> pd.DataFrame:
        """exams.csv, one row per exam_id (integer); DatasetError for bad or conflicting ids."""
        path = self.root / "exams.csv"
        table = read_metadata_csv(path, ["exam_id"])
        exam_id = pd.to_numeric(table["exam_id"], errors="coerce")
        if bad := table.loc[exam_id.isna() | (exam_id % 1 != 0), "exam_id"].tolist():
            raise DatasetError(path, f"exam_id column has empty or non-integer values {bad[:5]}")
        table["exam_id"] = exam_id.astype(np.int64)
        table = table.drop_duplicates()  # the official file repeats some rows verbatim
        if (conflicting := table.loc[table["exam_id"].duplicated(), "exam_id"]).size:
            raise DatasetError(path, f"exam_id {sorted(set(conflicting))[:5]} listed twice with different values")
        return table

    def index(self) -> pd.DataFrame:
        """Exams of the HDF5 files joined with exams.csv; exams without a matching exams.csv row
        (absent: ``no_metadata``; its ``trace_file`` names another file: ``metadata_mismatch``) are
        left out and listed in ``attrs["left_out"]``."""
        rows = pd.concat([self._file_rows(p) for p in self._files()], ignore_index=True)
        if (repeated := rows[rows["exam_id"].duplicated(keep=False)]).size:
            first = repeated.iloc[0]
            files = sorted(set(repeated.loc[repeated["exam_id"] == first["exam_id"], "h5_file"]))
            raise DatasetError(self.root, f"exam_id {first['exam_id']} is in more than one tracing "
                                          f"({', '.join(files)}); {repeated['exam_id'].nunique()} such exams")
        table = rows.merge(self._exams_csv(), on="exam_id", how="left", indicator=True)
        table.insert(0, "record_id", table["exam_id"].astype(str))
        absent = (table.pop("_merge") == "left_only").to_numpy()
        trace_file = table["trace_file"] if "trace_file" in table else table["h5_file"]
        mismatch = ~absent & (trace_file != table["h5_file"]).to_numpy()
        left_out = {"no_metadata": table.loc[absent, "record_id"].tolist(),
                    "metadata_mismatch": table.loc[mismatch, "record_id"].tolist()}
        table = table[~absent & ~mismatch].reset_index(drop=True)
        if table.empty:
            raise DatasetError(self.root / "exams.csv", f"no exam of the HDF5 files matches exams.csv "
                                                        f"({sum(absent)} absent, {sum(mismatch)} with another trace_file)")
        return annotate_index(table, left_out)

    @cached_property
    def _locations(self) -> dict[str, tuple[Path, int]]:
        """record_id → (file, row) for every exam (any mode), from the exam_id arrays only."""
        locations = {}
        for path in self._files():
            try:
                with h5py.File(path, "r") as file:
                    _, exam_id = _tracings(file, path)
            except OSError as err:
                raise DatasetError(path, f"not a readable HDF5 file: {err}") from None
            locations.update({str(e): (path, i) for i, e in enumerate(exam_id) if e != 0})
        return locations

    def read(self, record_id: str) -> Record:
        if str(record_id) not in self._locations:
            raise RecordError(self.root, "unknown_record", f"exam_id {record_id} not in any exams_part*.hdf5")
        path, row = self._locations[str(record_id)]
        where = f"{path}[tracings][{row}]"
        try:
            with h5py.File(path, "r") as file:
                tracing = file["tracings"][row]  # (T, 12)
        except (OSError, KeyError) as err:
            raise RecordError(path, "unreadable_signal", f"row {row}: {err}") from None
        lead, trail = zero_padding(tracing)
        if self.mode == "paper" and not paper_keep_mask(tracing[None, :_PAPER_PROBE_SAMPLES]).item():
            raise RecordError(where, "zero_start", "first 10 samples all zero: dropped by the paper's rule")
        if lead == len(tracing):
            raise RecordError(where, "all_zero", "tracing is all zeros")
        if self.mode == "strip_padding" and abs(lead - trail) <= 1:
            tracing = tracing[lead : len(tracing) - trail]
        signal, zero_leads = checked_signal(tracing.T, where)
        meta = {"exam_id": int(record_id), "h5_file": path.name, "h5_row": row,
                "padding": (lead, trail), "zero_leads": zero_leads}
        return Record(str(record_id), signal, FS, STANDARD_12_LEADS, path, meta)

    def __getstate__(self) -> dict:
        return {"root": self.root, "mode": self.mode}
