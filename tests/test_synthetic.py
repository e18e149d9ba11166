"""Synthetic ECGs: shape, units, lead order, determinism, no global RNG side effects, reader."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import torch

from ecgjepa_core.data.preprocess import Recipe
from ecgjepa_core.data.records import RecordError
from ecgjepa_core.data import synthetic
from ecgjepa_core.data.synthetic import SyntheticReader, synthetic_ecgs

BLOCK = 4  # small generator calls keep the tests fast; the block logic is the same


@pytest.fixture(scope="module", autouse=True)
def small_blocks():
    """Also one thread: small convolutions gain nothing from threads on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(synthetic, "BLOCK", BLOCK)
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def ecgs(small_blocks) -> np.ndarray:
    return synthetic_ecgs(6, seed=11)


def test_shape_units_and_lead_order(ecgs):
    assert ecgs.shape == (6, 8, 5000) and ecgs.dtype == np.float32
    peak = np.abs(ecgs).max(axis=-1)  # (n, 8) mV
    assert (peak > 0.1).all() and (peak < 6.0).all()  # mV, not µV or raw ±1 units
    assert np.allclose(ecgs * 1000, np.round(ecgs * 1000), atol=1e-3)  # integer µV, as the package writes
    # Lead order I, II, V1…: V1 is dominated by negative deflections, II by positive ones.
    assert (ecgs[:, 2].min(axis=-1) < -np.abs(ecgs[:, 2].max(axis=-1))).mean() >= 0.5
    assert (ecgs[:, 1].max(axis=-1) > np.abs(ecgs[:, 1].min(axis=-1))).mean() >= 0.5


def test_same_seed_same_output_other_seed_differs(ecgs):
    assert np.array_equal(synthetic_ecgs(6, seed=11), ecgs)
    assert not np.allclose(synthetic_ecgs(6, seed=12), ecgs)
    assert not np.allclose(ecgs[0], ecgs[1])  # records of one seed differ too


def test_records_do_not_depend_on_start_or_block_boundaries(ecgs):
    assert np.array_equal(synthetic_ecgs(3, seed=11, start=2), ecgs[2:5])
    across = synthetic_ecgs(2, seed=11, start=BLOCK - 1)  # last of block 0, first of block 1
    assert np.array_equal(across, synthetic_ecgs(BLOCK + 1, seed=11)[BLOCK - 1:])


def test_global_rngs_untouched():
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    expected = torch.rand(3), np.random.rand(3), random.random()
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    synthetic_ecgs(2, seed=5)
    got = torch.rand(3), np.random.rand(3), random.random()
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_twelve_leads_derive_limb_leads(ecgs):
    twelve = synthetic_ecgs(2, seed=11, leads=12)
    i, ii = ecgs[:2, 0], ecgs[:2, 1]
    assert twelve.shape == (2, 12, 5000)
    np.testing.assert_array_equal(twelve[:, [0, 1, 6, 7, 8, 9, 10, 11]], ecgs[:2])
    np.testing.assert_allclose(twelve[:, 2], ii - i, atol=1e-6)           # III
    np.testing.assert_allclose(twelve[:, 3], -(i + ii) / 2, atol=1e-6)    # aVR
    np.testing.assert_allclose(twelve[:, 4], i - ii / 2, atol=1e-6)       # aVL
    np.testing.assert_allclose(twelve[:, 5], ii - i / 2, atol=1e-6)       # aVF


def test_reader_matches_array_and_goes_through_a_recipe(ecgs):
    reader = pickle.loads(pickle.dumps(SyntheticReader(6, seed=11)))
    index = reader.index()
    assert list(index["record_id"]) == [str(i) for i in range(6)]
    record = reader.read("4")
    assert record.fs == 500.0 and record.lead_names == ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
    np.testing.assert_array_equal(record.signal, ecgs[4])
    row = Recipe(leads=12).apply(record)  # paper preprocessing: first 10 s, FFT → 2500, float16
    assert row.shape == (12, 2500)
    with pytest.raises(RecordError):
        reader.read("6")
