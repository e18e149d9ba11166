"""The format-16 fast path reads exactly what wfdb.rdrecord reads; other formats go through wfdb."""

from __future__ import annotations

import numpy as np
import wfdb

from ecgjepa_core.data.records import STANDARD_12_LEADS
from ecgjepa_core.data.wfdb_io import _read_plain_format16, read_header, read_wfdb_physical
from ecgjepa_core.paths import SAMPLE_DIR


def test_fast_path_equals_wfdb_on_every_sample_record():
    heads = [h for h in SAMPLE_DIR.rglob("*.hea") if "ludb" not in h.parts or h.parent.name == "data"]
    assert len(heads) >= 20
    for hea in heads:
        base = hea.with_suffix("")
        header = read_header(base)
        ours = _read_plain_format16(base, header, header.sig_len)
        assert ours is not None, hea
        np.testing.assert_array_equal(ours, wfdb.rdrecord(str(base), physical=True).p_signal, err_msg=str(hea))


def test_other_formats_fall_back_to_wfdb(tmp_path):
    rng = np.random.default_rng(0)
    signal = np.round(rng.normal(scale=0.3, size=(5000, 12)), 3).clip(-2.0, 2.0)  # fits 12 bits at 1000/mV
    wfdb.wrsamp("rec", fs=500, units=["mV"] * 12, sig_name=list(STANDARD_12_LEADS), p_signal=signal,
                fmt=["212"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(tmp_path))
    header = read_header(tmp_path / "rec")
    assert _read_plain_format16(tmp_path / "rec", header, 5000) is None
    got, _, _ = read_wfdb_physical(tmp_path / "rec", expected_fs=500)
    np.testing.assert_allclose(got, signal.T, atol=1e-3)
