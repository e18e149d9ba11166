"""PTB-XL reader on the sample and on the 52 real records of ../shared."""

from __future__ import annotations

import ast
import pickle

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.data import PtbxlReader, STANDARD_12_LEADS

from ._helpers import digital_to_mv, sample, wfdb_physical

# Superclasses of the sample records, read off PTB-XL's scp_codes by hand.
SAMPLE_SUPERCLASSES = {
    1: {"NORM"}, 8: {"MI"}, 9: {"NORM"}, 841: {"HYP", "STTC"}, 1612: {"CD", "STTC"}, 6001: {"STTC"},
    9867: {"STTC"}, 12846: {"NORM"}, 14647: {"MI"}, 17583: {"CD"},
}
SUPER = ["CD", "HYP", "MI", "NORM", "STTC"]


def superclasses(table: pd.DataFrame) -> dict[int, set[str]]:
    return {int(r.ecg_id): {c for c in SUPER if r[c] == 1} for _, r in table.iterrows()}


def test_sample_index_labels_and_columns():
    reader = PtbxlReader(sample("ptbxl"))
    index = reader.index()
    assert reader.classes == tuple(SUPER)
    assert list(index.columns) == ["record_id", "ecg_id", "patient_id", "strat_fold", "age", "sex",
                                   "filename", "scp_codes", *SUPER]
    assert superclasses(index) == SAMPLE_SUPERCLASSES
    assert index["record_id"].tolist() == [str(i) for i in sorted(SAMPLE_SUPERCLASSES)]


def test_sample_signal_is_wfdb_physical_mv():
    reader = PtbxlReader(sample("ptbxl"))
    record = reader.read("841")
    base = sample("ptbxl") / "records500/00000/00841_hr"
    assert record.signal.shape == (12, 5000) and record.signal.dtype == np.float32
    assert record.fs == 500 and record.lead_names == STANDARD_12_LEADS
    np.testing.assert_array_equal(record.signal, wfdb_physical(base))
    np.testing.assert_allclose(record.signal, digital_to_mv(base), atol=1e-6)
    assert record.meta["labels"] == {"CD": 0, "HYP": 1, "MI": 0, "NORM": 0, "STTC": 1}


def test_records100_option_reads_low_rate_files():
    reader = PtbxlReader(sample("ptbxl"), sampling_rate=100)
    index = reader.index()
    assert len(index) == 6 and len(index.attrs["left_out"]["missing_file"]) == 4
    record = reader.read("17583")
    assert record.signal.shape == (12, 1000) and record.fs == 100
    assert record.source.name == "17583_lr.hea"


def test_reader_pickles_and_reads_after_unpickling():
    reader = PtbxlReader(sample("ptbxl"))
    reader.index()
    clone = pickle.loads(pickle.dumps(reader))
    np.testing.assert_array_equal(clone.read("9").signal, reader.read("9").signal)


def test_other_tasks_have_ptbxl_definitions():
    sizes = {t: len(PtbxlReader(sample("ptbxl"), task=t).classes)
             for t in ("all", "diagnostic", "subdiagnostic", "form", "rhythm")}
    assert sizes == {"all": 71, "diagnostic": 44, "subdiagnostic": 23, "form": 19, "rhythm": 12}
    rhythm = PtbxlReader(sample("ptbxl"), task="rhythm").index().set_index("ecg_id")
    assert rhythm.loc[1, "SR"] == 1 and rhythm.loc[1].iloc[-12:].sum() == 1


@pytest.mark.shared
def test_all_52_superclasses_match_an_independent_computation(shared_data):
    root = shared_data / "ptbxl"
    index = PtbxlReader(root).index()
    assert len(index) == 52
    statements = pd.read_csv(root / "scp_statements.csv", index_col=0)
    database = pd.read_csv(root / "ptbxl_database.csv")
    expected = {}
    for ecg_id, text in zip(database.ecg_id, database.scp_codes):
        classes = set()
        for code in ast.literal_eval(text):
            if code in statements.index and statements.at[code, "diagnostic"] == 1.0:
                classes.add(statements.at[code, "diagnostic_class"])
        expected[ecg_id] = classes
    assert superclasses(index) == expected
    assert all(expected.values())  # every record here has a superclass


@pytest.mark.shared
def test_superclasses_and_statements_match_ptbxl_subset(shared_data):
    ours = PtbxlReader(shared_data / "ptbxl").index().set_index("ecg_id")
    subset = pd.read_csv(shared_data / "ptbxl_subset/records.csv").set_index("ecg_id")
    common = ours.index.intersection(subset.index)
    assert sorted(common) == [9, 3403, 6005, 12846, 14039]
    pd.testing.assert_frame_equal(ours.loc[common, SUPER].astype(int), subset.loc[common, SUPER].astype(int))
    all_ours = PtbxlReader(shared_data / "ptbxl", task="all").index().set_index("ecg_id")
    statements = pd.read_csv(shared_data / "ptbxl_subset/statements.csv").set_index("ecg_id")
    codes = list(statements.columns)
    pd.testing.assert_frame_equal(all_ours.loc[common, codes].astype(int), statements.loc[common, codes].astype(int))


@pytest.mark.shared
def test_every_real_record_reads_as_wfdb_physical(shared_data):
    reader = PtbxlReader(shared_data / "ptbxl")
    for row in reader.index().itertuples():
        record = reader.read(row.record_id)
        assert record.signal.shape == (12, 5000)
        if row.ecg_id % 5 == 0:  # spot-check values on a fifth, keeping the test fast
            np.testing.assert_array_equal(record.signal, wfdb_physical(shared_data / "ptbxl" / row.filename))
