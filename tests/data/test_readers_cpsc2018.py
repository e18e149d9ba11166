"""CPSC2018 reader on the sample (g1 subset) and on the 150 real g1 records of ../shared."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

import pytest

from ecgjepa_core.data import Cpsc2018Reader
from ecgjepa_core.data.labels import CPSC2018_CLASSES, CPSC2018_CODES

from ._helpers import digital_to_mv, sample, wfdb_physical


def dx_from_header_text(path) -> list[str]:
    """The #Dx: codes read straight from the header text (independent of the reader)."""
    match = re.search(r"^#\s*Dx:\s*(.*)$", path.read_text(), flags=re.MULTILINE)
    return [c.strip() for c in match.group(1).split(",") if c.strip()]


def test_sample_has_every_class_and_the_multilabel_record():
    index = Cpsc2018Reader(sample("cpsc2018")).index()
    assert len(index) == 11 and set(index["folder"]) == {"g1"}
    assert (index[list(CPSC2018_CODES)].sum() >= 1).all()
    a0079 = index.set_index("record_id").loc["A0079", list(CPSC2018_CODES)]
    assert a0079[a0079 == 1].index.tolist() == ["164889003", "59118001"]  # AF + RBBB
    assert index["skip_reason"].isna().all()


def test_class_order_is_string_sorted_snomed():
    assert list(CPSC2018_CODES) == sorted(CPSC2018_CODES)
    assert [name for _, name in CPSC2018_CLASSES] == ["PVC", "AF", "LBBB", "STE", "I-AVB", "PAC", "NSR", "STD", "RBBB"]


def test_long_record_is_cropped_to_first_10_s_of_physical_signal():
    record = Cpsc2018Reader(sample("cpsc2018")).read("A0001")
    base = sample("cpsc2018") / "g1/A0001"
    assert record.signal.shape == (12, 5000) and record.signal.dtype == np.float32
    assert record.meta["n_samples_original"] == 7500
    np.testing.assert_array_equal(record.signal, wfdb_physical(base)[:, :5000])
    np.testing.assert_allclose(record.signal, digital_to_mv(base)[:, :5000], atol=1e-6)
    assert record.meta["dx"] == ("59118001",) and record.meta["labels"][8] == 1


def test_crop_can_be_turned_off():
    record = Cpsc2018Reader(sample("cpsc2018"), crop=False).read("A0001")
    assert record.signal.shape == (12, 7500)


@pytest.mark.shared
def test_150_real_records_get_their_header_classes(shared_data):
    reader = Cpsc2018Reader(shared_data / "cpsc2018")
    index = reader.index().set_index("record_id")
    assert len(index) == 150
    counts = Counter()
    for record_id, row in index.iterrows():
        codes = dx_from_header_text(shared_data / f"cpsc2018/g1/{record_id}.hea")
        counts.update(codes)
        assert [c for c in CPSC2018_CODES if row[c] == 1] == sorted(codes)
    assert counts == {"59118001": 32, "164889003": 24, "426783006": 20, "429622005": 19, "164884008": 18,
                      "164931005": 13, "284470004": 13, "164909002": 8, "270492004": 7}
    record = reader.read("A0150")
    assert record.signal.shape == (12, 5000)
    np.testing.assert_array_equal(record.meta["labels"], index.loc["A0150", list(CPSC2018_CODES)].to_numpy())
