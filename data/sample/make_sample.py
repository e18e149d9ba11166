"""Rebuild data/sample/ from the real data in ../shared/data (or $ECGJEPA_SHARED/data).

Usage: python data/sample/make_sample.py [--source DIR]

Copies a few real records per dataset in the official layout, unmodified except for subsetting:
files are copied byte for byte; CSV files keep the verbatim rows of the copied records; the
CODE-15 HDF5 file and the arrays subset are rewritten with the selected rows only (same
datasets, dtypes and values). The record choices below make every PTB-XL superclass and
every one of the 9 CPSC2018 classes appear.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
from ecgjepa_core.paths import shared_dir  # noqa: E402

# ecg_id → superclasses: 1 NORM, 8 MI, 9 NORM (also in ptbxl_subset), 841 HYP+STTC, 1612 CD+STTC,
# 6001 STTC, 9867 STTC, 14647 MI, 17583 CD, 12846 NORM (also in ptbxl_subset). Folds 1–10 mixed.
PTBXL_500 = (1, 8, 9, 841, 1612, 6001, 9867, 12846, 14647, 17583)
PTBXL_100 = (841, 1612, 9867, 12846, 14647, 17583)  # those of PTBXL_500 that exist at 100 Hz
# One record per CPSC class (10 s), one AF+RBBB record, one 15 s record (to test cropping).
CPSC = ("A0001", "A0002", "A0003", "A0010", "A0021", "A0025", "A0039", "A0044", "A0049", "A0079", "A0100")
CHAPMAN = ("JS20000", "JS20001", "JS20002")
CODE15_PER_KIND = 3  # first unpadded and first zero-padded exams of exams_part0.hdf5
LUDB = ("1", "2", "7")
ARRAYS_PER_FOLD = 3  # ptbxl_subset rows per strat_fold 1–10


def copy_files(source: Path, target: Path, names: list[str]) -> None:
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / name)


def make_ptbxl(src: Path, out: Path) -> None:
    db = pd.read_csv(src / "ptbxl_database.csv", dtype=str, keep_default_na=False)
    rows = db[db["ecg_id"].astype(int).isin(PTBXL_500)]
    rows.to_csv(out / "ptbxl_database.csv", index=False)
    shutil.copyfile(src / "scp_statements.csv", out / "scp_statements.csv")
    for column, ids in (("filename_hr", PTBXL_500), ("filename_lr", PTBXL_100)):
        for name in rows.loc[rows["ecg_id"].astype(int).isin(ids), column]:
            copy_files(src, out, [f"{name}.hea", f"{name}.dat"])


def make_code15(src: Path, out: Path) -> None:
    with h5py.File(src / "exams_part0.hdf5", "r") as f:
        first = f["tracings"][:, :10, :]
        unpadded = np.flatnonzero(np.any(first != 0, axis=(1, 2)))[:CODE15_PER_KIND]
        padded = np.flatnonzero(~np.any(first != 0, axis=(1, 2)))[:CODE15_PER_KIND]
        rows = np.sort(np.concatenate([unpadded, padded]))
        tracings, exam_id = f["tracings"][rows], f["exam_id"][rows]
    with h5py.File(out / "exams_part0.hdf5", "w") as f:
        f.create_dataset("tracings", data=tracings, compression="gzip", chunks=(1, 512, 12))
        f.create_dataset("exam_id", data=exam_id)
    exams = pd.read_csv(src / "exams.csv", dtype=str, keep_default_na=False)
    exams[exams["exam_id"].astype(int).isin(exam_id)].to_csv(out / "exams.csv", index=False)


def make_ludb(src: Path, out: Path) -> None:
    extensions = ("hea", "dat", "i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
    copy_files(src, out, [f"data/{r}.{e}" for r in LUDB for e in extensions] + ["LICENSE.txt"])
    table = pd.read_csv(src / "ludb.csv", dtype=str, keep_default_na=False)
    table[table["ID"].isin(LUDB)].to_csv(out / "ludb.csv", index=False)


def make_arrays(src: Path, out: Path) -> None:
    records = pd.read_csv(src / "records.csv", dtype=str, keep_default_na=False)
    rows = np.sort(np.concatenate([
        np.flatnonzero(records["strat_fold"].astype(int) == fold)[:ARRAYS_PER_FOLD] for fold in range(1, 11)
    ]))
    np.save(out / "signals_250hz.npy", np.load(src / "signals_250hz.npy", mmap_mode="r")[rows])
    records.iloc[rows].to_csv(out / "records.csv", index=False)
    statements = pd.read_csv(src / "statements.csv", dtype=str, keep_default_na=False)
    statements[statements["ecg_id"].isin(records.iloc[rows]["ecg_id"])].to_csv(out / "statements.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=shared_dir() / "data")
    src = parser.parse_args().source
    for name in ("ptbxl", "cpsc2018", "chapman_ningbo", "code15", "ludb", "ptbxl_subset"):
        shutil.rmtree(HERE / name, ignore_errors=True)
        (HERE / name).mkdir()
    make_ptbxl(src / "ptbxl", HERE / "ptbxl")
    copy_files(src / "cpsc2018", HERE / "cpsc2018", [f"g1/{r}.{e}" for r in CPSC for e in ("hea", "mat")])
    copy_files(src / "chapman_ningbo", HERE / "chapman_ningbo",
               [f"WFDBRecords/20/200/{r}.{e}" for r in CHAPMAN for e in ("hea", "mat")])
    make_code15(src / "code15", HERE / "code15")
    make_ludb(src / "ludb", HERE / "ludb")
    make_arrays(src / "ptbxl_subset", HERE / "ptbxl_subset")


if __name__ == "__main__":
    main()
