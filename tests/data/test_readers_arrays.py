"""Arrays reader (ptbxl_subset format): memory-mapped rows, fs from the file name, joined statements."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from ecgjepa_core.data import ArraysReader

from ._helpers import sample


def test_sample_index_joins_records_and_statements():
    reader = ArraysReader(sample("ptbxl_subset"))
    index = reader.index()
    assert reader.fs == 250.0 and len(index) == 30
    assert sorted(index["strat_fold"].unique()) == list(range(1, 11))
    assert (index[["NORM", "MI", "STTC", "CD", "HYP"]].sum() > 0).all()
    assert sum(c.startswith("scp_") for c in index.columns) == 71
    assert (index["NORM"] <= index["scp_NORM"] + 1).all()  # both columns survive the join


def test_read_returns_the_stored_row_memory_mapped():
    reader = ArraysReader(sample("ptbxl_subset"))
    row = reader.index().iloc[4]
    record = reader.read(row.record_id)
    stored = np.load(sample("ptbxl_subset/signals_250hz.npy"))[row.row]
    np.testing.assert_array_equal(record.signal, stored.astype(np.float32))
    assert record.signal.shape == (12, 2500) and record.fs == 250
    assert isinstance(reader._signals(), np.memmap)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reader)).read(row.record_id).signal, record.signal)


def test_fs_argument_overrides_the_file_name():
    assert ArraysReader(sample("ptbxl_subset"), fs=500).read("9").fs == 500


@pytest.mark.shared
def test_full_subset_index(shared_data):
    reader = ArraysReader(shared_data / "ptbxl_subset")
    index = reader.index()
    assert len(index) == 1819
    assert index["strat_fold"].value_counts().sort_index().tolist() == [169, 188, 179, 188, 185, 188, 185, 160, 183, 194]
    assert reader.read(index["record_id"].iloc[-1]).signal.shape == (12, 2500)
