"""Rebuild ``ptbxl_subset`` (the CPU study's labelled PTB-XL set) from an official PTB-XL download.

The subset is 1,819 PTB-XL records, listed in ``data/ptbxl_subset_ids.csv`` (``ecg_id, strat_fold``,
in the row order of the arrays). Each record's 500 Hz WFDB signal goes through
``preprocess.SUBSET_RECIPE``: zero-phase 4th-order Butterworth band-pass 0.5–40 Hz, per-lead z-score
(population sd), FFT resampling 5000 → 2500 samples, float16. The folder written holds
``signals_250hz.npy`` (N, 12, 2500), ``records.csv`` (``ecg_id, strat_fold, age, sex`` and the
superdiagnostic multi-hot ``NORM, MI, STTC, CD, HYP``) and ``statements.csv`` (``ecg_id`` plus one
0/1 column per SCP statement, all 71, every code of a record counted whatever its likelihood),
the layout :class:`ecgjepa_core.data.ArraysReader` reads. ``scripts/build_ptbxl_subset.py`` is the
command line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.progress import progress_bar
from ecgjepa_core.data.labels import ptbxl_multi_hot, read_scp_statements
from ecgjepa_core.data.preprocess import SUBSET_RECIPE
from ecgjepa_core.data.ptbxl import PtbxlReader
from ecgjepa_core.data.records import DatasetError, read_metadata_csv
from ecgjepa_core.paths import REPO_ROOT

SUBSET_IDS_PATH = REPO_ROOT / "data" / "ptbxl_subset_ids.csv"
SUPERCLASS_COLUMNS = ("NORM", "MI", "STTC", "CD", "HYP")  # the order of records.csv
SIGNALS_FILE = "signals_250hz.npy"


def read_subset_ids(path: Path = SUBSET_IDS_PATH) -> pd.DataFrame:
    """``ecg_id, strat_fold`` of the subset, in array-row order; DatasetError on repeated or bad ids."""
    table = read_metadata_csv(Path(path), ["ecg_id", "strat_fold"])
    ids = pd.to_numeric(table["ecg_id"], errors="coerce")
    if ids.isna().any() or (ids % 1 != 0).any():
        raise DatasetError(path, f"ecg_id must be integers, got {table.loc[ids.isna() | (ids % 1 != 0), 'ecg_id'].tolist()[:5]}")
    if ids.duplicated().any():
        raise DatasetError(path, f"ecg_id listed twice: {sorted(set(ids[ids.duplicated()].astype(int)))[:5]}")
    return pd.DataFrame({"ecg_id": ids.astype(np.int64), "strat_fold": table["strat_fold"].astype(np.int64)})


def build_subset(ptbxl_root: Path | str, ids: pd.DataFrame,
                 progress: bool = True) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """The subset's three parts for the records ``ids`` (``read_subset_ids`` rows, in that order).

    Returns (signals (N, 12, 2500) float16, records, statements). DatasetError names the PTB-XL
    folder and the ecg_ids it lacks, or those whose ``strat_fold`` differs from the list (another
    PTB-XL version).
    """
    reader = PtbxlReader(ptbxl_root, sampling_rate=500, task="superdiagnostic", unknown_codes="fail")
    index = reader.index().set_index("ecg_id")
    wanted = ids["ecg_id"].tolist()
    if missing := [i for i in wanted if i not in index.index]:
        raise DatasetError(Path(ptbxl_root), f"{len(missing)} of the subset's {len(wanted)} records are not in this "
                                             f"PTB-XL folder (records500 and ptbxl_database.csv), e.g. ecg_id {missing[:5]}")
    rows = index.loc[wanted]
    if moved := [i for i, fold in zip(wanted, ids["strat_fold"]) if rows.at[i, "strat_fold"] != fold]:
        raise DatasetError(Path(ptbxl_root) / "ptbxl_database.csv",
                           f"strat_fold differs from {SUBSET_IDS_PATH.name} for ecg_id {moved[:5]}: another PTB-XL version?")
    signals = np.stack([SUBSET_RECIPE.apply(reader.read(str(i)))
                        for i in progress_bar(wanted, desc="ptbxl_subset", unit="rec", disable=not progress)])
    records = pd.DataFrame({"ecg_id": wanted, "strat_fold": rows["strat_fold"].to_numpy(),
                            "age": rows["age"].astype(float).to_numpy(), "sex": rows["sex"].astype(int).to_numpy()})
    for name in SUPERCLASS_COLUMNS:
        records[name] = rows[name].astype(int).to_numpy()
    scp = read_scp_statements(Path(ptbxl_root) / "scp_statements.csv")
    statements = ptbxl_multi_hot(rows["scp_codes"], scp, "all").astype(int)
    statements.insert(0, "ecg_id", wanted)
    return signals, records, statements


def write_subset(out_dir: Path | str, signals: np.ndarray, records: pd.DataFrame, statements: pd.DataFrame) -> Path:
    """Write the three files of the ``ptbxl_subset`` layout into ``out_dir``; returns it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / SIGNALS_FILE, signals)
    records.to_csv(out / "records.csv", index=False)
    statements.to_csv(out / "statements.csv", index=False)
    return out
