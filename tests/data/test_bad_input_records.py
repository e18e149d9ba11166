"""The third bad-input catalogue, records and dataset folders: annotation rates checked against the record's,
a negative ADC gain said and counted, a path of the wrong kind named as such.

| case | behaviour |
| --- | --- |
| LUDB annotation written at 250 Hz for the 500 Hz record (issue) | ``bad_annotation`` naming the file and both rates (was: HR 90.7 instead of 45.4 bpm) |
| the same at 1000 Hz; read for the segmentation labels | refused alike |
| an annotation file that states no rate | read at the record's rate, as WFDB does |
| a negative ADC gain (issue) | RecordWarning naming header and lead; the lead read inverted, as the header states |
| the same while a cache is built | counted (``counts.record_warnings``) and listed in ``info.json`` |
| a file where a dataset folder is due: PTB-XL, CPSC, Chapman, CODE-15, arrays, LUDB data/ | DatasetError "is a file, expected a … folder" |
| a folder where ptbxl_database.csv / the arrays' signals file is due | DatasetError "is a folder, expected a … file" |
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from ecgjepa_core.data import (ArraysReader, ChapmanNingboReader, Code15Reader, Cpsc2018Reader, DatasetError, LudbReader,
                               PtbxlReader)
from ecgjepa_core.data.cache import build_cache
from ecgjepa_core.data.ludb_segmentation import read_lead_annotation
from ecgjepa_core.data.preprocess import Recipe
from ecgjepa_core.data.records import RecordWarning

from ._helpers import sample, writable_copy
from .test_bad_input_readers import cpsc, edit_text, ptbxl, record_error  # noqa: F401


@pytest.fixture
def ludb(tmp_path) -> Path:
    return writable_copy("ludb", tmp_path / "ludb")


def _rewrite_annotation(ludb: Path, fs: float | None) -> None:
    """Lead II's annotation of record 1, same symbols and positions, stating ``fs`` (None: no rate)."""
    import wfdb

    ann = wfdb.rdann(str(ludb / "data" / "1"), "ii")
    kwargs = {} if fs is None else {"fs": fs}
    wfdb.wrann("1", "ii", ann.sample, symbol=ann.symbol, write_dir=str(ludb / "data"), **kwargs)


@pytest.mark.parametrize("fs", [250, 1000])
def test_annotations_at_another_rate_are_refused(ludb, fs):
    _rewrite_annotation(ludb, fs)
    err = record_error(LudbReader(ludb), "1", "bad_annotation", "1.ii")
    assert f"annotation of lead II at {fs} Hz, the record at 500 Hz" in str(err)


def test_the_segmentation_labels_refuse_them_too(ludb):
    _rewrite_annotation(ludb, 250)
    with pytest.raises(Exception, match=r"1\.ii: annotation of lead II at 250 Hz, the record at 500 Hz"):
        read_lead_annotation(ludb, "1", "II")


def test_an_annotation_without_a_rate_is_read_at_the_records(ludb):
    before = LudbReader(ludb).annotations("1")["II"]
    _rewrite_annotation(ludb, None)
    assert LudbReader(ludb).annotations("1")["II"].equals(before)


def _invert_lead_i(cpsc: Path) -> None:
    edit_text(cpsc / "g1/A0002.hea", r"^A0002.mat 16\+24 1000/mV (.*) I$", r"A0002.mat 16+24 -1000/mV \g<1> I")


def test_a_negative_gain_warns_naming_header_and_lead(cpsc):
    plain = Cpsc2018Reader(cpsc).read("A0002").signal
    _invert_lead_i(cpsc)
    with pytest.warns(RecordWarning, match=r"A0002.hea: negative ADC gain for leads \['I'\]: read as the header "
                                           r"states, which inverts them"):
        inverted = Cpsc2018Reader(cpsc).read("A0002").signal
    np.testing.assert_array_equal(inverted[0], -plain[0])
    np.testing.assert_array_equal(inverted[1:], plain[1:])


def test_a_negative_gain_is_counted_by_the_cache(cpsc, tmp_path):
    _invert_lead_i(cpsc)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecordWarning)  # caught and counted inside the build, not raised
        out = build_cache(Cpsc2018Reader(cpsc), Recipe(leads=12), tmp_path / "cache", workers=1, progress=False)
    import json

    info = json.loads((out / "info.json").read_text())
    assert info["counts"]["record_warnings"] == 1
    assert any("A0002.hea: negative ADC gain for leads ['I']" in w for w in info["warnings"])


@pytest.mark.parametrize("reader, what", [(PtbxlReader, "PTB-XL folder"), (Cpsc2018Reader, "CPSC2018 folder"),
                                          (ChapmanNingboReader, "Chapman–Ningbo folder"),
                                          (Code15Reader, "CODE-15 folder"), (ArraysReader, "arrays folder")])
def test_a_file_where_a_dataset_folder_is_due(tmp_path, reader, what):
    path = tmp_path / "dataset.zip"
    path.write_bytes(b"PK")
    with pytest.raises(DatasetError, match=f"^{path}: is a file, expected an? {what}$"):
        reader(path).index()


def test_a_file_where_ludbs_data_folder_is_due(ludb):
    shutil.rmtree(ludb / "data")
    (ludb / "data").write_text("")
    with pytest.raises(DatasetError, match=r"ludb/data: is a file, expected a LUDB data folder"):
        LudbReader(ludb).index()


def test_a_folder_where_the_metadata_csv_is_due(ptbxl):
    (ptbxl / "ptbxl_database.csv").unlink()
    (ptbxl / "ptbxl_database.csv").mkdir()
    with pytest.raises(DatasetError, match=r"ptbxl_database.csv: is a folder, expected a metadata file"):
        PtbxlReader(ptbxl).index()


def test_a_folder_where_the_signals_file_is_due(tmp_path):
    arrays = writable_copy("ptbxl_subset", tmp_path / "arrays")
    signals = next(arrays.glob("signals*.npy"))
    signals.unlink()
    signals.mkdir()
    with pytest.raises(DatasetError, match=f"{signals.name}: is a folder, expected a signals file"):
        ArraysReader(arrays).index()
    assert sample("ptbxl_subset").is_dir()  # the shipped sample untouched
