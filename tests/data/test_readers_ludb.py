"""LUDB reader: per-lead gains handled by physical units, per-lead P/QRS/T annotations."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ecgjepa_core.data import LudbReader, STANDARD_12_LEADS
from ecgjepa_core.data.ludb import waves_from_annotation

from ._helpers import digital_to_mv, sample, wfdb_physical


def test_signal_is_physical_despite_per_lead_gains():
    base = sample("ludb") / "data/1"
    assert len(set(wfdb.rdheader(str(base)).adc_gain)) > 5  # gains really differ per lead
    record = LudbReader(sample("ludb")).read("1")
    assert record.signal.shape == (12, 5000) and record.lead_names == STANDARD_12_LEADS
    np.testing.assert_array_equal(record.signal, wfdb_physical(base))
    np.testing.assert_allclose(record.signal, digital_to_mv(base), atol=1e-6)
    assert record.meta["age"] == "51" and "Rhythm: Sinus bradycardia." in record.meta["diagnoses"]


def test_qrs_onsets_and_offsets_per_lead_match_the_raw_annotation():
    annotations = LudbReader(sample("ludb")).annotations("1")
    assert set(annotations) == set(STANDARD_12_LEADS)
    for lead, waves in annotations.items():
        ann = wfdb.rdann(str(sample("ludb") / "data/1"), lead.lower())
        symbols = ann.symbol
        # Regular "( N )" triples, read independently of the reader's rule.
        triples = [(ann.sample[i - 1], ann.sample[i], ann.sample[i + 1]) for i in range(1, len(symbols) - 1)
                   if symbols[i - 1 : i + 2] == ["(", "N", ")"]]
        qrs = waves[waves["wave"] == "QRS"].dropna()
        assert [tuple(map(int, t)) for t in triples] == list(zip(qrs.onset, qrs.peak, qrs.offset))
        durations_ms = (qrs.offset - qrs.onset) * 2
        assert len(qrs) >= 5 and durations_ms.between(40, 200).all()
        assert set(waves["wave"]) == {"P", "QRS", "T"}


def test_irregular_annotation_sequence_gets_na_bounds():
    symbols = ["N", ")", "(", "t", ")", "(", "p", ")", "N", "(", ")", "(", "t", ")"]
    samples = np.arange(len(symbols)) * 10
    waves = waves_from_annotation(symbols, samples)
    assert waves["wave"].tolist() == ["QRS", "T", "P", "QRS", "T"]
    assert waves["onset"].isna().tolist() == [True, False, False, True, False]
    assert waves.loc[3, "offset"] == 100  # first ")" after the peak, past the stray "("
    assert waves.loc[4, "onset"] == 110


def test_index_has_clean_ludb_csv_columns():
    index = LudbReader(sample("ludb")).index()
    assert index["record_id"].tolist() == ["1", "2", "7"]
    assert index.loc[0, "Sex"] == "F" and index.loc[0, "Rhythms"] == "Sinus bradycardia"


@pytest.mark.shared
def test_real_records_have_qrs_annotations_in_every_lead(shared_data):
    reader = LudbReader(shared_data / "ludb")
    assert len(reader.index()) == 200
    for record_id in ("10", "50", "100", "150", "200"):
        for waves in reader.annotations(record_id).values():
            qrs = waves[waves["wave"] == "QRS"].dropna()
            assert len(qrs) > 0 and (qrs.onset < qrs.peak).all() and (qrs.peak <= qrs.offset).all()
