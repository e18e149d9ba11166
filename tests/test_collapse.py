"""Collapse diagnostics: effective rank and per-dimension sd see collapse; the probe sees information."""

import numpy as np
import pytest

from ecgjepa_core.evaluation.collapse import effective_rank, mean_feature_sd, representation_diagnostics
from tests.test_evaluate import one_thread, separable_features  # noqa: F401 (autouse fixture)


def test_effective_rank_of_collapsed_and_isotropic_features():
    rng = np.random.default_rng(0)
    direction = rng.normal(size=32)
    rank_one = rng.normal(size=(500, 1)) * direction + 1e-4 * rng.normal(size=(500, 32))
    assert 1.0 <= effective_rank(rank_one) < 1.1
    isotropic = rng.normal(size=(4000, 16))
    assert 15.0 < effective_rank(isotropic) <= 16.0
    two_dims = np.hstack([rng.normal(size=(1000, 2)), np.zeros((1000, 14))])
    assert effective_rank(two_dims) == pytest.approx(2.0, abs=0.1)


def test_a_constant_representation_has_no_spread_and_uncentred_rank_one():
    constant = np.tile(np.arange(1.0, 9.0), (50, 1))
    assert mean_feature_sd(constant) == 0.0
    assert effective_rank(constant) == 0.0
    assert effective_rank(constant, centre=False) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-empty"):
        effective_rank(np.zeros((0, 4)))


def test_mean_feature_sd_is_the_average_spread():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(20000, 2)) * np.array([1.0, 3.0])
    assert mean_feature_sd(f) == pytest.approx(2.0, rel=0.02)


def test_diagnostics_separate_an_informative_from_a_collapsed_representation():
    xtr, ytr = separable_features(400, seed=0)
    xva, yva = separable_features(200, seed=1)
    good = representation_diagnostics(xtr, ytr, xva, yva)
    assert good.probe_val > 0.9 and good.effective_rank > 14 and good.dim == 16 and good.n_train == 400
    rng = np.random.default_rng(2)
    collapsed_tr = np.ones((400, 16)) + 1e-3 * rng.normal(size=(400, 16))
    collapsed_va = np.ones((200, 16)) + 1e-3 * rng.normal(size=(200, 16))
    bad = representation_diagnostics(collapsed_tr, ytr, collapsed_va, yva)
    assert bad.probe_val < 0.65 and bad.mean_sd < 2e-3 and bad.effective_rank_uncentred < 1.1
    assert set(bad.row()) >= {"mean_sd", "effective_rank", "probe_val"}
