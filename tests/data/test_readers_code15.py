"""CODE-15 reader: the paper's first-10-samples rule keeps exactly the unpadded exams."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from ecgjepa_core.data import Code15Reader, RecordError
from ecgjepa_core.data.code15 import zero_padding

from ._helpers import sample


def unpadded_exam_ids(path) -> set[str]:
    """exam_ids whose tracing has no leading/trailing all-zero sample, from the file directly."""
    with h5py.File(path, "r") as f:
        tracings, ids = f["tracings"][()], f["exam_id"][()]
    return {str(e) for e, t in zip(ids, tracings) if np.any(t[0] != 0) and np.any(t[-1] != 0)}


def test_paper_mode_keeps_exactly_the_unpadded_sample_exams():
    index = Code15Reader(sample("code15")).index()
    assert set(index["record_id"]) == unpadded_exam_ids(sample("code15/exams_part0.hdf5"))
    assert len(index) == 3 and {"age", "is_male", "patient_id", "h5_row"} <= set(index.columns)


def test_paper_mode_returns_all_4096_samples_as_stored():
    reader = Code15Reader(sample("code15"))
    row = reader.index().iloc[0]
    record = reader.read(row.record_id)
    with h5py.File(sample("code15/exams_part0.hdf5"), "r") as f:
        stored = f["tracings"][row.h5_row]
    assert record.signal.shape == (12, 4096) and record.fs == 400
    np.testing.assert_array_equal(record.signal, stored.T)


def test_strip_padding_returns_the_unpadded_samples():
    reader = Code15Reader(sample("code15"), mode="strip_padding")
    index = reader.index()
    assert len(index) == 6
    lengths = sorted(reader.read(r).signal.shape[1] for r in index["record_id"])
    assert lengths == [2934] * 3 + [4096] * 3
    padded = next(r for r in index["record_id"] if reader.read(r).meta["padding"] != (0, 0))
    assert reader.read(padded).meta["padding"] == (581, 581)


def test_paper_mode_refuses_a_padded_exam():
    padded = set(Code15Reader(sample("code15"), "strip_padding").index()["record_id"])
    padded -= set(Code15Reader(sample("code15")).index()["record_id"])
    with pytest.raises(RecordError) as err:
        Code15Reader(sample("code15")).read(padded.pop())
    assert err.value.reason == "zero_start" and "exams_part0.hdf5" in str(err.value)


def test_zero_padding_counts_leading_and_trailing_zero_samples():
    tracing = np.zeros((10, 12), np.float32)
    tracing[3:8, 5] = 1.0
    assert zero_padding(tracing) == (3, 2)
    assert zero_padding(np.zeros((10, 12))) == (10, 0)


@pytest.mark.shared
def test_paper_rule_on_all_293_real_exams(shared_data):
    path = shared_data / "code15/exams_part0.hdf5"
    kept = set(Code15Reader(shared_data / "code15").index()["record_id"])
    with h5py.File(path, "r") as f:
        tracings, ids = f["tracings"][()], f["exam_id"][()]
    pads = {str(e): zero_padding(t) for e, t in zip(ids, tracings)}
    assert len(pads) == 293
    assert kept == {e for e, p in pads.items() if p == (0, 0)} and len(kept) == 122
    assert set(pads.values()) == {(0, 0), (581, 581)}  # 2,934-sample exams padded symmetrically
