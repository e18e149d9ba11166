"""Corrupted copies of the sample in tmp_path: every problem is a named DatasetError/RecordError.

Catalogue (case → behaviour; ``reason`` is RecordError.reason, the key callers count skips by):

| # | case | reader | behaviour |
| --- | --- | --- | --- |
| 1 | dataset folder missing | any | DatasetError naming the folder |
| 2 | ptbxl_database.csv missing | PTB-XL | DatasetError naming the CSV |
| 3 | CSV lacks a needed column | PTB-XL | DatasetError "missing columns [...]" |
| 4 | malformed scp_codes cell | PTB-XL | DatasetError naming the CSV and the ecg_id |
| 5 | .dat truncated | PTB-XL | RecordError ``truncated_signal`` (file size vs header) |
| 6 | .dat longer than the header's length | PTB-XL | RecordError ``length_mismatch`` (wfdb would silently read less) |
| 7 | header length > samples in .mat | CPSC | RecordError ``truncated_signal`` |
| 8 | wrong sampling rate (250 for a 500 Hz set) | PTB-XL | RecordError ``wrong_fs`` |
| 9 | odd sampling rate (499.5) → ``wrong_fs``; unparsable ("abc": wfdb then loses the length too) | PTB-XL | RecordError ``bad_header`` |
| 10 | NaN sample (WFDB missing-value code -32768) | PTB-XL | RecordError ``nan`` naming the lead |
| 11 | NaN in an arrays row | arrays | RecordError ``nan`` |
| 12 | all-zero lead | PTB-XL | **flagged, not an error**: ``meta["zero_leads"] == ("V3",)``; the paper's invalid-sample rule is applied in preprocessing |
| 13 | unknown lead name (X3) | CPSC | RecordError ``unknown_leads`` |
| 14 | upper-case lead name (AVR) | CPSC | accepted, mapped to aVR |
| 15 | SNOMED code outside the 9 classes | CPSC | RecordError ``unknown_code``; index ``skip_reason`` says so |
| 16 | empty ``#Dx:`` | CPSC | RecordError ``no_label``; index ``skip_reason`` says so |
| 17 | record < 10 s | CPSC, Chapman | RecordError ``too_short`` (paper rule) |
| 18 | ``.mat`` missing | CPSC | RecordError ``missing_file`` naming the .mat |
| 19 | non-UTF-8 header | CPSC | RecordError ``bad_header`` (wfdb would silently drop the bytes) |
| 20 | malformed signal line in header | CPSC | RecordError ``bad_header`` |
| 21 | path with spaces | PTB-XL | reads normally |
| 22 | CODE-15 HDF5 without ``tracings`` | CODE-15 | DatasetError naming the file |
| 23 | CODE-15 file that is not HDF5 | CODE-15 | DatasetError naming the file |
| 24 | exams.csv missing | CODE-15 | DatasetError naming the CSV |
| 25 | records.csv rows ≠ array rows | arrays | DatasetError |
| 26 | no sampling rate (given or in the file name) | arrays | DatasetError |
| 27 | LUDB annotation file missing | LUDB | RecordError ``missing_file`` naming it |
| 28 | unknown record_id | any | RecordError ``unknown_record`` |
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from ecgjepa_core.data import (
    ArraysReader, ChapmanNingboReader, Code15Reader, Cpsc2018Reader, DatasetError, LudbReader, PtbxlReader,
    RecordError,
)

from ._helpers import writable_copy

PTBXL_BASE = "records500/00000/00001_hr"


def record_error(reader, record_id: str, reason: str, file_name: str) -> RecordError:
    with pytest.raises(RecordError) as info:
        reader.read(record_id)
    assert info.value.reason == reason, str(info.value)
    assert file_name in str(info.value), str(info.value)
    return info.value


def dataset_error(call, file_name: str, problem: str) -> None:
    with pytest.raises(DatasetError) as info:
        call()
    assert file_name in str(info.value) and problem in str(info.value), str(info.value)


def edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert re.search(old, text, flags=re.MULTILINE), (old, path)
    path.write_text(re.sub(old, new, text, flags=re.MULTILINE))


def dat_samples(path: Path) -> np.memmap:
    return np.memmap(path, dtype="<i2", mode="r+", shape=(5000, 12))


@pytest.fixture
def ptbxl(tmp_path) -> Path:
    return writable_copy("ptbxl", tmp_path / "ptbxl")


@pytest.fixture
def cpsc(tmp_path) -> Path:
    return writable_copy("cpsc2018", tmp_path / "cpsc2018")


# --- dataset level --------------------------------------------------------------------------

def test_missing_dataset_folders(tmp_path):
    missing = tmp_path / "nowhere"
    for reader in (PtbxlReader(missing), Cpsc2018Reader(missing), ChapmanNingboReader(missing),
                   Code15Reader(missing), LudbReader(missing)):
        dataset_error(reader.index, "nowhere", "not found")
    dataset_error(lambda: ArraysReader(missing), "nowhere", "not found")


def test_missing_ptbxl_database_csv(ptbxl):
    (ptbxl / "ptbxl_database.csv").unlink()
    dataset_error(PtbxlReader(ptbxl).index, "ptbxl_database.csv", "not found")


def test_ptbxl_csv_without_needed_column(ptbxl):
    edit_text(ptbxl / "ptbxl_database.csv", r"^ecg_id,patient_id,", "ecg_id,patient,")
    dataset_error(PtbxlReader(ptbxl).index, "ptbxl_database.csv", "missing columns ['patient_id']")


def test_malformed_scp_codes(ptbxl):
    edit_text(ptbxl / "ptbxl_database.csv", r"\"\{'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0\}\"", "\"{'NORM': 100.0, 'LVOLT'\"")
    dataset_error(PtbxlReader(ptbxl).index, "ptbxl_database.csv (ecg_id 1)", "scp_codes")


def test_code15_file_without_tracings(tmp_path):
    root = writable_copy("code15", tmp_path / "code15")
    with h5py.File(root / "exams_part0.hdf5", "w") as f:
        f["exam_id"] = np.array([1, 2])
    dataset_error(Code15Reader(root).index, "exams_part0.hdf5", "lacks 'tracings'")


def test_code15_file_not_hdf5(tmp_path):
    root = writable_copy("code15", tmp_path / "code15")
    (root / "exams_part0.hdf5").write_text("not hdf5")
    dataset_error(Code15Reader(root).index, "exams_part0.hdf5", "not a readable HDF5 file")


def test_code15_missing_exams_csv(tmp_path):
    root = writable_copy("code15", tmp_path / "code15")
    (root / "exams.csv").unlink()
    dataset_error(Code15Reader(root).index, "exams.csv", "not found")


def test_arrays_row_count_mismatch(tmp_path):
    root = writable_copy("ptbxl_subset", tmp_path / "arrays")
    lines = (root / "records.csv").read_text().splitlines()
    (root / "records.csv").write_text("\n".join(lines[:-1]) + "\n")
    dataset_error(ArraysReader(root).index, "records.csv", "29 rows but the signals array has 30")


def test_arrays_without_sampling_rate(tmp_path):
    root = writable_copy("ptbxl_subset", tmp_path / "arrays")
    (root / "signals_250hz.npy").rename(root / "signals_raw.npy")
    dataset_error(lambda: ArraysReader(root), "signals_raw.npy", "sampling rate")
    assert ArraysReader(root, fs=250).read("9").fs == 250


# --- record level: signal files ------------------------------------------------------------

def test_truncated_dat(ptbxl):
    with open(ptbxl / f"{PTBXL_BASE}.dat", "r+b") as f:
        f.truncate(50_000)
    record_error(PtbxlReader(ptbxl), "1", "truncated_signal", "00001_hr.dat")


def test_dat_longer_than_header_says(ptbxl):
    edit_text(ptbxl / f"{PTBXL_BASE}.hea", r"^00001_hr 12 500 5000", "00001_hr 12 500 4000")
    err = record_error(PtbxlReader(ptbxl), "1", "length_mismatch", "00001_hr.dat")
    assert "header implies 96000 (4000 samples); the file holds 5000 samples" in str(err)


def test_header_longer_than_mat(cpsc):
    edit_text(cpsc / "g1/A0002.hea", r"^A0002 12 500 5000", "A0002 12 500 6000")
    record_error(Cpsc2018Reader(cpsc), "A0002", "truncated_signal", "A0002.mat")


@pytest.mark.parametrize("rate", ["250", "499.5"])
def test_wrong_or_odd_sampling_rate(ptbxl, rate):
    edit_text(ptbxl / f"{PTBXL_BASE}.hea", r"^00001_hr 12 500 5000", f"00001_hr 12 {rate} 5000")
    err = record_error(PtbxlReader(ptbxl), "1", "wrong_fs", "00001_hr.hea")
    assert f"sampling rate {rate} Hz, expected 500 Hz" in str(err)


def test_unparsable_sampling_rate(ptbxl):
    edit_text(ptbxl / f"{PTBXL_BASE}.hea", r"^00001_hr 12 500 5000", "00001_hr 12 abc 5000")
    record_error(PtbxlReader(ptbxl), "1", "bad_header", "00001_hr.hea")


def test_nan_sample(ptbxl):
    samples = dat_samples(ptbxl / f"{PTBXL_BASE}.dat")
    samples[10, 1] = -32768  # WFDB format 16 missing-value code → NaN in the physical signal
    samples.flush()
    err = record_error(PtbxlReader(ptbxl), "1", "nan", "00001_hr.hea")
    assert "['II']" in str(err)


def test_nan_in_arrays_row(tmp_path):
    root = writable_copy("ptbxl_subset", tmp_path / "arrays")
    signals = np.load(root / "signals_250hz.npy")
    signals[0, 3, 100] = np.nan
    np.save(root / "signals_250hz.npy", signals)
    record_error(ArraysReader(root), "9", "nan", "signals_250hz.npy[0]")


def test_all_zero_lead_is_flagged_not_raised(ptbxl):
    samples = dat_samples(ptbxl / f"{PTBXL_BASE}.dat")
    samples[:, 8] = 0  # V3; baseline 0, so physical zero
    samples.flush()
    record = PtbxlReader(ptbxl).read("1")
    assert record.meta["zero_leads"] == ("V3",) and not record.signal[8].any()


def test_missing_signal_file(cpsc):
    (cpsc / "g1/A0002.mat").unlink()
    record_error(Cpsc2018Reader(cpsc), "A0002", "missing_file", "A0002.mat")


def test_path_with_spaces_reads(tmp_path):
    root = writable_copy("ptbxl", tmp_path / "my ecg data" / "ptb xl")
    assert PtbxlReader(root).read("1").signal.shape == (12, 5000)


# --- record level: headers and labels -----------------------------------------------------

def test_unknown_lead_name(cpsc):
    edit_text(cpsc / "g1/A0002.hea", r" V3$", " X3")
    err = record_error(Cpsc2018Reader(cpsc), "A0002", "unknown_leads", "A0002.hea")
    assert "X3" in str(err)


def test_upper_case_lead_name_is_mapped(cpsc):
    edit_text(cpsc / "g1/A0002.hea", r" aVR$", " AVR")
    record = Cpsc2018Reader(cpsc).read("A0002")
    original = Cpsc2018Reader(writable_copy("cpsc2018", cpsc.parent / "orig")).read("A0002")
    np.testing.assert_array_equal(record.signal, original.signal)


def test_unknown_snomed_code(cpsc):
    edit_text(cpsc / "g1/A0002.hea", r"^#Dx: .*$", "#Dx: 426783006,999999999")
    reader = Cpsc2018Reader(cpsc)
    assert reader.index().set_index("record_id").at["A0002", "skip_reason"] == "unknown_code"
    err = record_error(reader, "A0002", "unknown_code", "A0002.hea")
    assert "999999999" in str(err)


def test_empty_dx(cpsc):
    edit_text(cpsc / "g1/A0002.hea", r"^#Dx: .*$", "#Dx: ")
    reader = Cpsc2018Reader(cpsc)
    assert reader.index().set_index("record_id").at["A0002", "skip_reason"] == "no_label"
    record_error(reader, "A0002", "no_label", "A0002.hea")


def test_short_records_are_dropped(cpsc, tmp_path):
    edit_text(cpsc / "g1/A0002.hea", r"^A0002 12 500 5000", "A0002 12 500 3000")
    with open(cpsc / "g1/A0002.mat", "r+b") as f:
        f.truncate(24 + 2 * 12 * 3000)  # a valid 6 s record
    assert Cpsc2018Reader(cpsc).index().set_index("record_id").at["A0002", "skip_reason"] == "too_short"
    record_error(Cpsc2018Reader(cpsc), "A0002", "too_short", "A0002.hea")
    assert Cpsc2018Reader(cpsc, min_samples=3000).read("A0002").signal.shape == (12, 3000)
    chapman = writable_copy("chapman_ningbo", tmp_path / "chapman")
    head = chapman / "WFDBRecords/20/200/JS20000.hea"
    edit_text(head, r"^JS20000 12 500 5000", "JS20000 12 500 4000")
    with open(head.with_suffix(".mat"), "r+b") as f:
        f.truncate(24 + 2 * 12 * 4000)
    record_error(ChapmanNingboReader(chapman), "JS20000", "too_short", "JS20000.hea")


def test_non_utf8_header(cpsc):
    path = cpsc / "g1/A0002.hea"
    path.write_bytes(path.read_bytes() + b"#Note: \xff\xfe\n")
    assert Cpsc2018Reader(cpsc).index().set_index("record_id").at["A0002", "skip_reason"] == "bad_header"
    err = record_error(Cpsc2018Reader(cpsc), "A0002", "bad_header", "A0002.hea")
    assert "not UTF-8" in str(err)


def test_malformed_header_line(cpsc):
    edit_text(cpsc / "g1/A0002.hea", r"^A0002.mat 16\+24 1000/mV 16 0 (\S+) (\S+) 0 II$", "A0002.mat sixteen gain")
    record_error(Cpsc2018Reader(cpsc), "A0002", "bad_header", "A0002.hea")


def test_missing_ludb_annotation(tmp_path):
    root = writable_copy("ludb", tmp_path / "ludb")
    (root / "data/1.v4").unlink()
    record_error(LudbReader(root), "1", "missing_file", "1.v4")


def test_unknown_record_id(ptbxl):
    record_error(PtbxlReader(ptbxl), "424242", "unknown_record", "ptbxl_database.csv")
