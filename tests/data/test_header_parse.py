"""``wfdb_io.parse_header`` is ``wfdb.rdheader`` field for field, on every real header and on the header syntax's corners."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb

from ecgjepa_core.data.wfdb_io import parse_header, read_header
from ecgjepa_core.paths import SAMPLE_DIR, shared_dir

LINE = "{name}.dat 16 1000.0(0)/mV 16 0 -115 13047 0 {lead}"
CORNERS = {
    "plain": "r 2 500 10\n" + "\n".join(LINE.format(name="r", lead=lead) for lead in ("I", "II")),
    "date_and_time": "r 1 500 10 10:20:30 05/02/2020\n" + LINE.format(name="r", lead="I"),
    "challenge_date": "r 1 500 10 05-Feb-2020 11:39:16\nr.mat 16+24 1000/mV 16 0 28 -1716 0 I\n#Dx: 59118001",
    "fractional_rate": "r 1 360.5 10\n" + LINE.format(name="r", lead="V1"),
    "no_gain_no_units": "r 1 250 10\nr.dat 16\n# Age: 70",
    "zero_gain": "r 1 500 10\nr.dat 16 0/mV 16 0 0 0 0 I",
    "adc_zero_as_baseline": "r 1 500 10\nr.dat 212 200/mV 12 1024 0 0 0 II",
    "frames_skew_offset": "r 1 500 10\nr.dat 16x2:3+24 200(5)/mV 16 0 0 0 0 aVR",
    "non_ascii_comment": "r 1 500 10\n" + LINE.format(name="r", lead="I") + "\n# Sx: Atrioventricular \u00e9",
}


def _same(a, b) -> bool:
    va, vb = vars(a), vars(b)
    if va.keys() != vb.keys():
        return False
    for key, x in va.items():
        y = vb[key]
        if isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y) or any(type(p) is not type(q) or p != q for p, q in zip(x, y)):
                return False
        elif type(x) is not type(y) or not np.array_equal(np.asarray(x, dtype=object), np.asarray(y, dtype=object)):
            return False
    return True


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corners_of_the_header_syntax(tmp_path, name):
    base = tmp_path / "r"
    text = CORNERS[name] + "\n"
    base.with_suffix(".hea").write_text(text, encoding="utf-8")
    assert _same(parse_header(text, base), wfdb.rdheader(str(base)))


def test_every_header_of_the_datasets():
    roots = [SAMPLE_DIR] + ([shared_dir() / "data"] if (shared_dir() / "data").is_dir() else [])
    headers = [h for root in roots for h in sorted(Path(root).rglob("*.hea"))]
    assert len(headers) > 200
    different = [h for h in headers if not _same(read_header(h.with_suffix("")), wfdb.rdheader(str(h.with_suffix(""))))]
    assert not different, different[:5]


def test_a_malformed_signal_line_is_a_named_error(tmp_path):
    base = tmp_path / "r"
    base.with_suffix(".hea").write_text("r 1 500 10\nr.dat x16 oops\n")
    with pytest.raises(Exception, match="malformed header"):
        read_header(base)
