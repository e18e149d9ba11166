"""The shipped sample: small, real, complete enough for every reader and every class."""

from __future__ import annotations

import filecmp

import pytest

from ecgjepa_core.data import (
    ArraysReader, ChapmanNingboReader, Code15Reader, Cpsc2018Reader, LudbReader, PtbxlReader,
)
from ecgjepa_core.data.labels import CPSC2018_CODES, PTBXL_SUPERCLASSES
from ecgjepa_core.paths import SAMPLE_DIR

READERS = {
    "ptbxl": PtbxlReader, "cpsc2018": Cpsc2018Reader, "chapman_ningbo": ChapmanNingboReader,
    "code15": Code15Reader, "ludb": LudbReader, "ptbxl_subset": ArraysReader,
}


def test_sample_is_small_and_documented():
    size = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    assert size < 8 * 2**20
    readme = (SAMPLE_DIR / "README.md").read_text()
    for needed in ("CC BY 4.0", "ODC-By", "unmodified except for", *READERS):
        assert needed in readme


@pytest.mark.parametrize("folder", READERS)
def test_every_reader_reads_every_sample_record(folder):
    reader = READERS[folder](SAMPLE_DIR / folder)
    index = reader.index()
    assert len(index) >= 3
    for record_id in index["record_id"]:
        record = reader.read(record_id)
        assert record.signal.shape[0] == 12 and record.signal.shape[1] >= 2500
        assert record.meta["zero_leads"] == ()


def test_every_ptbxl_superclass_and_cpsc_class_appears():
    assert (PtbxlReader(SAMPLE_DIR / "ptbxl").index()[list(PTBXL_SUPERCLASSES)].sum() > 0).all()
    assert (Cpsc2018Reader(SAMPLE_DIR / "cpsc2018").index()[list(CPSC2018_CODES)].sum() > 0).all()


@pytest.mark.shared
def test_sample_files_are_byte_copies_of_the_real_data(shared_data):
    copied = [p for p in SAMPLE_DIR.rglob("*") if p.suffix in (".hea", ".dat", ".mat", ".i", ".v6")]
    assert len(copied) > 50
    for path in copied:
        assert filecmp.cmp(path, shared_data / path.relative_to(SAMPLE_DIR), shallow=False), path
    assert filecmp.cmp(SAMPLE_DIR / "ptbxl/scp_statements.csv", shared_data / "ptbxl/scp_statements.csv", shallow=False)
