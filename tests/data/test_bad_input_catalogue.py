"""The second bad-input catalogue (readers, metadata, downloads): every fault is a named error or a counted skip.

43 distinct faults (44 test items: two spellings of gain 0). Each asserts the error type and that
the message names the file, or that the record left out is listed under its reason
(``index().attrs["left_out"]``, which the cache counts). The first four rows and the LUDB
annotation rows were silent wrong answers before.

| case | reader | behaviour |
| --- | --- | --- |
| ADC gain 0 (``0/mV``, ``0(28)/mV``) | PTB-XL, CPSC | RecordError ``uncalibrated`` naming header and lead |
| same record name in g1/ and g2/ | CPSC | both kept as ``g1/A0002``, ``g2/A0002``; warning names both paths |
| same name in two Chapman subfolders | Chapman | both kept, folder-qualified ids |
| scp_codes entry not in scp_statements.csv | PTB-XL | warning naming code and ecg_id; ``unknown_codes="fail"``: DatasetError |
| header is a symlink loop / a directory | CPSC, Chapman | ``unreadable_file`` in index and read |
| non-integer / repeated ecg_id, empty filename | PTB-XL | DatasetError naming ptbxl_database.csv |
| strat_fold "abc", empty, 11 | PTB-XL | left out, ``bad_strat_fold`` |
| records listed but files absent | PTB-XL | left out, ``missing_file`` |
| scp_statements.csv: code twice, flag "yes" | PTB-XL | DatasetError naming it |
| LUDB annotation of random bytes | LUDB | ``bad_annotation`` naming the file and the reason |
| annotation past the record end / wave of 2 s | LUDB | ``bad_annotation`` |
| annotation without QRS | LUDB | ``bad_annotation`` |
| ludb.csv row absent from data/; empty data/; repeated ID | LUDB | left out / DatasetError |
| arrays: ecg_id "x" in records.csv / statements.csv; statements row twice; records ecg_id twice | arrays | DatasetError |
| exams.csv: exam_id "x"; conflicting rows; verbatim repeated row (accepted) | CODE-15 | DatasetError / one row |
| exam absent from exams.csv / trace_file names another file | CODE-15 | left out ``no_metadata`` / ``metadata_mismatch`` |
| same exam_id in two HDF5 files | CODE-15 | DatasetError naming both files |
| empty g1/, empty WFDBRecords | CPSC, Chapman | DatasetError |
| .dat one byte longer than the header says | PTB-XL | ``length_mismatch`` saying "1 stray bytes" (was "5000 samples but holds 5000") |
| non-ASCII record name in the header | CPSC | ``bad_header`` naming the header (was: a different file "not found") |
| header with 0 samples | PTB-XL | ``bad_header`` |
| ECG features on an LUDB folder without records | LUDB | DatasetError |
| download: no network / destination is a file / metadata not JSON | download | DownloadError naming URL or path; CLI exit 1 |
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.data import ArraysReader, ChapmanNingboReader, Code15Reader, Cpsc2018Reader, LudbReader, PtbxlReader
from ecgjepa_core.data.download import DownloadError, download, main as download_main

from ._helpers import writable_copy
from .test_bad_input_readers import PTBXL_BASE, cpsc, dataset_error, edit_text, ptbxl, record_error  # noqa: F401
from .test_download import Mirror

PTBXL_CSV = "ptbxl_database.csv"


def set_csv_cell(path: Path, key: str, key_value, column: str, value) -> None:
    """Set one cell of a metadata CSV, keeping every other cell as text."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[table[key] == str(key_value), column] = value
    table.to_csv(path, index=False)


# --- 29-32: silent wrong answers -------------------------------------------------------------

@pytest.mark.parametrize("gain", ["0/mV", "0(0)/mV"])
def test_adc_gain_zero_is_refused_naming_record_and_lead(ptbxl, gain):
    edit_text(ptbxl / f"{PTBXL_BASE}.hea", r"^(00001_hr.dat 16 )1000.0\(0\)/mV (.*) V2$", rf"\g<1>{gain} \g<2> V2")
    err = record_error(PtbxlReader(ptbxl), "1", "uncalibrated", "00001_hr.hea")
    assert "ADC gain 0" in str(err) and "['V2']" in str(err)


def test_adc_gain_zero_with_baseline_in_cpsc(cpsc):
    edit_text(cpsc / "g1/A0002.hea", r"^A0002.mat 16\+24 1000/mV (.*) I$", r"A0002.mat 16+24 0(28)/mV \g<1> I")
    err = record_error(Cpsc2018Reader(cpsc), "A0002", "uncalibrated", "A0002.hea")
    assert "['I']" in str(err)


def test_shadowed_cpsc_records_are_both_kept(cpsc, caplog):
    (cpsc / "g2").mkdir()
    for ext in ("hea", "mat"):
        shutil.copyfile(cpsc / f"g1/A0002.{ext}", cpsc / f"g2/A0002.{ext}")
    reader = Cpsc2018Reader(cpsc)
    with caplog.at_level(logging.WARNING):
        index = reader.index()
    ids = set(index["record_id"])
    assert {"g1/A0002", "g2/A0002"} <= ids and "A0002" not in ids and "A0001" in ids
    assert index.set_index("record_id").at["g2/A0002", "folder"] == "g2"
    warning = " ".join(index.attrs["warnings"])
    assert str(cpsc / "g1/A0002.hea") in warning and str(cpsc / "g2/A0002.hea") in warning
    assert "A0002" in caplog.text
    np.testing.assert_array_equal(reader.read("g1/A0002").signal, reader.read("g2/A0002").signal)


def test_shadowed_chapman_records_are_both_kept(tmp_path):
    root = writable_copy("chapman_ningbo", tmp_path / "chapman")
    other = root / "WFDBRecords/20/201"
    other.mkdir()
    for ext in ("hea", "mat"):
        shutil.copyfile(root / f"WFDBRecords/20/200/JS20000.{ext}", other / f"JS20000.{ext}")
    index = ChapmanNingboReader(root).index()
    assert {"20/200/JS20000", "20/201/JS20000"} <= set(index["record_id"])
    assert "JS20001" in set(index["record_id"])  # unshadowed names keep their plain id
    assert str(other / "JS20000.hea") in index.attrs["warnings"][0]
    assert ChapmanNingboReader(root).read("20/201/JS20000").signal.shape == (12, 5000)


def _add_unknown_code(ptbxl: Path) -> None:
    edit_text(ptbxl / PTBXL_CSV, r"\"\{'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0\}\"", "\"{'XNORM': 100.0, 'SR': 0.0}\"")


def test_unknown_scp_code_is_counted_and_named(ptbxl, caplog):
    _add_unknown_code(ptbxl)
    with caplog.at_level(logging.WARNING):
        index = PtbxlReader(ptbxl).index()
    (warning,) = index.attrs["warnings"]
    assert "XNORM in 1 records (ecg_id 1)" in warning and PTBXL_CSV in warning
    assert "XNORM" in caplog.text
    assert index.set_index("record_id").loc["1", ["CD", "HYP", "MI", "NORM", "STTC"]].sum() == 0


def test_unknown_scp_code_fails_on_request(ptbxl):
    _add_unknown_code(ptbxl)
    dataset_error(PtbxlReader(ptbxl, unknown_codes="fail").index, PTBXL_CSV, "XNORM in 1 records (ecg_id 1)")


# --- 33-37: raw exceptions and uncounted records ---------------------------------------------

def test_header_symlink_loop(cpsc):
    hea = cpsc / "g1/A0002.hea"
    hea.unlink()
    hea.symlink_to(hea.name)  # points to itself
    assert Cpsc2018Reader(cpsc).index().set_index("record_id").at["A0002", "skip_reason"] == "unreadable_file"
    err = record_error(Cpsc2018Reader(cpsc), "A0002", "unreadable_file", "A0002.hea")
    assert "cannot read the header" in str(err)


def test_header_that_is_a_directory(tmp_path):
    root = writable_copy("chapman_ningbo", tmp_path / "chapman")
    hea = root / "WFDBRecords/20/200/JS20001.hea"
    hea.unlink()
    hea.mkdir()
    assert ChapmanNingboReader(root).index().set_index("record_id").at["JS20001", "skip_reason"] == "unreadable_file"
    record_error(ChapmanNingboReader(root), "JS20001", "unreadable_file", "JS20001.hea")


@pytest.mark.parametrize("value, problem", [("x1", "non-integer values ['x1']"), ("8", "repeated values [8]")])
def test_bad_ecg_id(ptbxl, value, problem):
    set_csv_cell(ptbxl / PTBXL_CSV, "ecg_id", 1, "ecg_id", value)
    dataset_error(PtbxlReader(ptbxl).index, PTBXL_CSV, problem)


def test_empty_filename_cell(ptbxl):
    set_csv_cell(ptbxl / PTBXL_CSV, "ecg_id", 8, "filename_hr", "")
    dataset_error(PtbxlReader(ptbxl).index, PTBXL_CSV, "empty filename_hr for ecg_id [8]")


@pytest.mark.parametrize("fold", ["abc", "", "11"])
def test_invalid_strat_fold_is_left_out_and_listed(ptbxl, fold):
    set_csv_cell(ptbxl / PTBXL_CSV, "ecg_id", 8, "strat_fold", fold)
    index = PtbxlReader(ptbxl).index()
    assert "8" not in set(index["record_id"]) and index.attrs["left_out"] == {"bad_strat_fold": ["8"]}
    assert index["strat_fold"].between(1, 10).all()


def test_absent_record_files_are_listed(ptbxl):
    for ext in ("hea", "dat"):
        (ptbxl / f"records500/00000/00008_hr.{ext}").unlink()
    index = PtbxlReader(ptbxl).index()
    assert index.attrs["left_out"] == {"missing_file": ["8"]} and len(index) == 9


@pytest.mark.parametrize("edit, problem", [
    ((r"^NDT,", "NDT,x,1.0,1.0,,STTC,STTC,,,,,,\nNDT,"), "statement codes listed twice: ['NDT']"),
    ((r"^NDT,non-diagnostic T abnormalities,1.0,", "NDT,non-diagnostic T abnormalities,yes,"),
     "columns ['diagnostic'] must hold 1, 0 or nothing"),
])
def test_malformed_scp_statements(ptbxl, edit, problem):
    edit_text(ptbxl / "scp_statements.csv", *edit)
    dataset_error(PtbxlReader(ptbxl).index, "scp_statements.csv", problem)


# --- 38-41: LUDB -----------------------------------------------------------------------------

@pytest.fixture
def ludb(tmp_path) -> Path:
    return writable_copy("ludb", tmp_path / "ludb")


def _write_annotation(ludb: Path, symbols: list[str], samples: list[int]) -> None:
    import wfdb

    wfdb.wrann("1", "ii", np.array(samples), symbol=symbols, write_dir=str(ludb / "data"))


def test_ludb_annotation_of_random_bytes(ludb):
    (ludb / "data/1.ii").write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    err = record_error(LudbReader(ludb), "1", "bad_annotation", "1.ii")
    assert "lead II" in str(err)


@pytest.mark.parametrize("symbols, samples, reason", [
    (["(", "N", ")"], [100, 120, 5200], "outside the record (0…4999)"),
    (["(", "N", ")"], [100, 600, 1100], "1 waves longer than 600 ms"),
    (["(", "p", ")", "(", "t", ")"], [100, 120, 140, 300, 350, 400], "no QRS annotated"),
])
def test_ludb_annotation_with_impossible_structure(ludb, symbols, samples, reason):
    _write_annotation(ludb, symbols, samples)
    err = record_error(LudbReader(ludb), "1", "bad_annotation", "1.ii")
    assert reason in str(err)


def test_ludb_rows_without_records_are_listed(ludb):
    for f in (ludb / "data").glob("2.*"):
        f.unlink()
    index = LudbReader(ludb).index()
    assert "2" not in set(index["record_id"]) and "2" in index.attrs["left_out"]["missing_file"]


def test_ludb_without_any_record(ludb):
    for f in (ludb / "data").glob("*"):
        f.unlink()
    dataset_error(LudbReader(ludb).index, "data", "none of the")


def test_ludb_csv_with_repeated_id(ludb):
    text = (ludb / "ludb.csv").read_text()
    header, first = text.split("\n", 1)
    (ludb / "ludb.csv").write_text(f"{header}\n{first}{first}")
    dataset_error(LudbReader(ludb).index, "ludb.csv", "repeated values")


def test_ecg_features_on_ludb_without_records(ludb):
    from ecgjepa_core.data.ecg_features import validate_on_ludb

    for f in (ludb / "data").glob("*"):
        f.unlink()
    dataset_error(lambda: validate_on_ludb(ludb), "data", "none of the")


# --- 42: arrays ------------------------------------------------------------------------------

@pytest.fixture
def arrays(tmp_path) -> Path:
    return writable_copy("ptbxl_subset", tmp_path / "arrays")


@pytest.mark.parametrize("file_name, problem", [("records.csv", "non-integer values ['x']"),
                                                ("statements.csv", "non-integer values ['x']")])
def test_arrays_non_integer_ecg_id(arrays, file_name, problem):
    set_csv_cell(arrays / file_name, "ecg_id", 9, "ecg_id", "x")
    dataset_error(ArraysReader(arrays).index, file_name, problem)


def test_arrays_statements_row_listed_twice(arrays):
    lines = (arrays / "statements.csv").read_text().splitlines()
    (arrays / "statements.csv").write_text("\n".join(lines + [lines[1]]) + "\n")
    dataset_error(ArraysReader(arrays).index, "statements.csv", "ecg_id [9] listed more than once")


def test_arrays_records_with_repeated_ecg_id(arrays):
    set_csv_cell(arrays / "records.csv", "ecg_id", 24, "ecg_id", "9")
    dataset_error(ArraysReader(arrays).index, "records.csv", "repeated ecg_id values ['9']")


# --- 43-45: CODE-15 --------------------------------------------------------------------------

@pytest.fixture
def code15(tmp_path) -> Path:
    return writable_copy("code15", tmp_path / "code15")


def test_code15_non_integer_exam_id(code15):
    set_csv_cell(code15 / "exams.csv", "exam_id", 919050, "exam_id", "x")
    dataset_error(Code15Reader(code15).index, "exams.csv", "non-integer values ['x']")


def test_code15_conflicting_rows_for_one_exam(code15):
    lines = (code15 / "exams.csv").read_text().splitlines()
    (code15 / "exams.csv").write_text("\n".join(lines + [lines[4].replace(",28,", ",29,")]) + "\n")
    dataset_error(Code15Reader(code15).index, "exams.csv", "exam_id [919050] listed twice with different values")


def test_code15_verbatim_repeated_row_is_one_exam(code15):
    lines = (code15 / "exams.csv").read_text().splitlines()
    (code15 / "exams.csv").write_text("\n".join(lines + [lines[4]]) + "\n")
    index = Code15Reader(code15).index()
    assert index["record_id"].is_unique and "919050" in set(index["record_id"])


def test_code15_exam_without_metadata_is_listed(code15):
    lines = (code15 / "exams.csv").read_text().splitlines()
    (code15 / "exams.csv").write_text("\n".join(lines[:4] + lines[5:]) + "\n")
    index = Code15Reader(code15).index()
    assert index.attrs["left_out"] == {"no_metadata": ["919050"]} and "919050" not in set(index["record_id"])


def test_code15_exam_whose_metadata_names_another_file(code15):
    set_csv_cell(code15 / "exams.csv", "exam_id", 919050, "trace_file", "exams_part7.hdf5")
    index = Code15Reader(code15).index()
    assert index.attrs["left_out"] == {"metadata_mismatch": ["919050"]}


def test_code15_exam_in_two_files(code15):
    shutil.copyfile(code15 / "exams_part0.hdf5", code15 / "exams_part1.hdf5")
    dataset_error(Code15Reader(code15).index, "exams_part0.hdf5, exams_part1.hdf5", "is in more than one tracing")


# --- 46-49: empty folders and misleading messages --------------------------------------------

def test_cpsc_folder_without_records(tmp_path):
    (tmp_path / "cpsc" / "g1").mkdir(parents=True)
    dataset_error(Cpsc2018Reader(tmp_path / "cpsc").index, "cpsc", "no *.hea records in g1")


def test_chapman_folder_without_records(tmp_path):
    (tmp_path / "chapman" / "WFDBRecords" / "20" / "200").mkdir(parents=True)
    dataset_error(ChapmanNingboReader(tmp_path / "chapman").index, "WFDBRecords", "no */*/*.hea records")


def test_signal_file_with_stray_bytes_says_so(ptbxl):
    with open(ptbxl / f"{PTBXL_BASE}.dat", "ab") as f:
        f.write(b"\0")
    err = record_error(PtbxlReader(ptbxl), "1", "length_mismatch", "00001_hr.dat")
    assert "the file holds 5000 samples and 1 stray bytes" in str(err)


def test_non_ascii_record_name_is_named_as_such(cpsc):
    for ext in ("hea", "mat"):
        (cpsc / f"g1/A0002.{ext}").rename(cpsc / f"g1/Ä0002.{ext}")
    edit_text(cpsc / "g1/Ä0002.hea", r"A0002", "Ä0002")
    err = record_error(Cpsc2018Reader(cpsc), "Ä0002", "bad_header", "Ä0002.hea")
    assert "non-ASCII characters in header line 1" in str(err) and "not found" not in str(err)


def test_header_with_zero_samples(ptbxl):
    edit_text(ptbxl / f"{PTBXL_BASE}.hea", r"^00001_hr 12 500 5000", "00001_hr 12 500 0")
    err = record_error(PtbxlReader(ptbxl), "1", "bad_header", "00001_hr.hea")
    assert "12 signals of 0 samples" in str(err)


# --- 51: download ----------------------------------------------------------------------------

def _closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_download_without_network(tmp_path, capsys):
    url = _closed_port_url()
    with pytest.raises(DownloadError, match=f"{url}/ludb/1.0.1/SHA256SUMS.txt: cannot reach the host"):
        download("ludb", tmp_path / "ludb", base_url=url, progress=False)
    assert download_main(["ludb", "--dest", str(tmp_path / "ludb"), "--base-url", url, "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "cannot reach the host" in err[0]


def test_download_into_a_file(tmp_path):
    dest = tmp_path / "taken"
    dest.write_text("a file, not a folder")
    with pytest.raises(DownloadError, match=f"{dest}: cannot create the destination folder"):
        download("ludb", dest, base_url=_closed_port_url(), progress=False)
    assert dest.read_text() == "a file, not a folder"


def test_zenodo_metadata_that_is_not_json(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html>maintenance</html>")
    with Mirror() as mirror:
        mirror.routes["/api/records/4916206"] = page
        with pytest.raises(DownloadError, match="api/records/4916206: the record metadata is not a JSON object"):
            download("code15", tmp_path / "code15", base_url=mirror.url, progress=False)
