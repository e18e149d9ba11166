"""ptbxl_subset rebuilt from official PTB-XL files equals the subset on the records both hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.data import ArraysReader, DatasetError
from ecgjepa_core.data.ptbxl_subset import SIGNALS_FILE, build_subset, read_subset_ids
from ecgjepa_core.paths import REPO_ROOT, SAMPLE_DIR

FOLD_SIZES = [169, 188, 179, 188, 185, 188, 185, 160, 183, 194]  # strat_fold 1-10 of the 1,819 records


def _ids_in_both(ptbxl: Path, subset: Path) -> pd.DataFrame:
    official = set(pd.read_csv(ptbxl / "ptbxl_database.csv")["ecg_id"])
    shipped = set(pd.read_csv(subset / "records.csv")["ecg_id"])
    ids = read_subset_ids()
    return ids[ids["ecg_id"].isin(official & shipped)].reset_index(drop=True)


def _assert_rebuilt(ptbxl: Path, subset: Path, ids: pd.DataFrame) -> None:
    signals, records, statements = build_subset(ptbxl, ids, progress=False)
    reference = pd.read_csv(subset / "records.csv")
    rows = [reference.index[reference["ecg_id"] == i][0] for i in ids["ecg_id"]]
    pd.testing.assert_frame_equal(records, reference.iloc[rows].reset_index(drop=True))
    shipped_statements = pd.read_csv(subset / "statements.csv").set_index("ecg_id").loc[ids["ecg_id"]]
    ours = statements.set_index("ecg_id")
    assert set(ours.columns) == set(shipped_statements.columns)
    np.testing.assert_array_equal(ours[shipped_statements.columns].to_numpy(), shipped_statements.to_numpy())
    ref = np.load(subset / SIGNALS_FILE, mmap_mode="r")[rows]
    assert signals.shape == ref.shape and signals.dtype == ref.dtype == np.float16
    # The stored values were computed ~1e-5 apart from ours before the float16 rounding (measured on
    # the five shared records: within half a float16 step + 1.3e-5), so a value may round one step
    # (≤ 2^-10 relative) away: 2.6-4.6 % of the values do.
    step = np.spacing(np.abs(ref)).astype(np.float64)
    assert np.all(np.abs(signals.astype(np.float64) - ref) <= step + 2e-5)
    assert np.mean(signals != ref) < 0.1


def test_id_list_is_the_subset():
    ids = read_subset_ids()
    assert len(ids) == 1819 and ids["ecg_id"].is_unique
    assert ids["strat_fold"].value_counts().sort_index().tolist() == FOLD_SIZES
    shipped = pd.read_csv(SAMPLE_DIR / "ptbxl_subset" / "records.csv")[["ecg_id", "strat_fold"]]
    merged = shipped.merge(ids, on="ecg_id", suffixes=("", "_list"))
    assert len(merged) == len(shipped) and (merged["strat_fold"] == merged["strat_fold_list"]).all()


def test_rebuild_from_the_shipped_sample():
    ids = _ids_in_both(SAMPLE_DIR / "ptbxl", SAMPLE_DIR / "ptbxl_subset")
    assert len(ids) >= 1
    _assert_rebuilt(SAMPLE_DIR / "ptbxl", SAMPLE_DIR / "ptbxl_subset", ids)


def test_rebuild_from_the_shared_ptbxl_records(shared_data):
    ids = _ids_in_both(shared_data / "ptbxl", shared_data / "ptbxl_subset")
    assert sorted(ids["ecg_id"]) == [9, 3403, 6005, 12846, 14039]
    _assert_rebuilt(shared_data / "ptbxl", shared_data / "ptbxl_subset", ids)


def test_absent_records_are_named():
    with pytest.raises(DatasetError, match=r"1\d\d\d of the subset's 1819 records are not in this PTB-XL folder"):
        build_subset(SAMPLE_DIR / "ptbxl", read_subset_ids(), progress=False)


def test_another_ptbxl_version_is_refused():
    ids = _ids_in_both(SAMPLE_DIR / "ptbxl", SAMPLE_DIR / "ptbxl_subset").assign(strat_fold=11)
    with pytest.raises(DatasetError, match="strat_fold differs"):
        build_subset(SAMPLE_DIR / "ptbxl", ids, progress=False)


def test_script_writes_a_folder_the_arrays_reader_reads(tmp_path):
    ids = _ids_in_both(SAMPLE_DIR / "ptbxl", SAMPLE_DIR / "ptbxl_subset")
    ids.to_csv(tmp_path / "ids.csv", index=False)
    done = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "build_ptbxl_subset.py"),
                           "--ptbxl", str(SAMPLE_DIR / "ptbxl"), "--out", str(tmp_path / "subset"),
                           "--ids", str(tmp_path / "ids.csv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    reader = ArraysReader(tmp_path / "subset")
    index = reader.index()
    assert index["ecg_id"].tolist() == ids["ecg_id"].tolist()
    assert reader.read(str(ids["ecg_id"][0])).signal.shape == (12, 2500)
