"""Chapman–Ningbo reader: two-level WFDBRecords tree, first 5000 samples, Dx codes as metadata."""

from __future__ import annotations

import numpy as np
import pytest

from ecgjepa_core.data import ChapmanNingboReader

from ._helpers import sample, wfdb_physical


def test_sample_index_and_signal():
    reader = ChapmanNingboReader(sample("chapman_ningbo"))
    index = reader.index()
    assert index["record_id"].tolist() == ["JS20000", "JS20001", "JS20002"]
    assert set(index["subfolder"]) == {"20/200"}
    assert index.loc[0, "dx"] == "284470004,427084000,698252002,55930002"
    record = reader.read("JS20000")
    assert record.signal.shape == (12, 5000) and record.signal.dtype == np.float32
    np.testing.assert_array_equal(record.signal, wfdb_physical(sample("chapman_ningbo") / "WFDBRecords/20/200/JS20000"))
    assert record.meta["dx"] == ("284470004", "427084000", "698252002", "55930002")


def test_root_may_be_the_wfdbrecords_folder_itself():
    assert len(ChapmanNingboReader(sample("chapman_ningbo") / "WFDBRecords").index()) == 3


@pytest.mark.shared
def test_all_real_records_read(shared_data):
    reader = ChapmanNingboReader(shared_data / "chapman_ningbo")
    index = reader.index()
    assert len(index) == 20 and index["skip_reason"].isna().all()
    assert all(reader.read(r).signal.shape == (12, 5000) for r in index["record_id"])
