"""Readouts of frozen tokens and the share of their variance that position explains."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgjepa_core.evaluation.readouts import PositionShare, pool_tokens, token_readouts


def _brute_force_share(t: np.ndarray) -> float:
    mu_s, mu = t.mean(0), t.mean((0, 1))
    return float(len(t) * ((mu_s - mu) ** 2).sum() / ((t - mu) ** 2).sum())


def test_position_share_matches_its_definition_over_any_batching():
    rng = np.random.default_rng(0)
    positions = rng.normal(size=(1, 20, 6)) * 3
    t = positions + rng.normal(size=(50, 20, 6))
    share = PositionShare()
    for chunk in np.array_split(t, 7):
        share.add(chunk)
    assert share.value == pytest.approx(_brute_force_share(t), rel=1e-10)
    assert 0.8 < share.value < 1.0


def test_position_share_is_one_for_identical_records_and_near_zero_without_positions():
    rng = np.random.default_rng(1)
    same = np.repeat(rng.normal(size=(1, 10, 4)), 8, axis=0)
    s = PositionShare()
    s.add(same)
    assert s.value == pytest.approx(1.0)
    noise = PositionShare()
    noise.add(rng.normal(size=(400, 10, 4)))
    assert noise.value < 0.05
    with pytest.raises(ValueError, match="grid changed"):
        noise.add(rng.normal(size=(2, 11, 4)))
    with pytest.raises(ValueError, match="at least two records"):
        PositionShare().value


def test_pooled_statistics_are_mean_max_and_sd_of_every_dimension():
    t = torch.tensor([[[1.0, 0.0], [3.0, 4.0]]])  # (1, 2 tokens, 2 dims)
    np.testing.assert_allclose(pool_tokens(t, "mean").numpy(), [[2.0, 2.0]])
    np.testing.assert_allclose(pool_tokens(t, "stats").numpy(), [[2.0, 2.0, 3.0, 4.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="unknown readout"):
        pool_tokens(t, "median")


def test_token_readouts_pool_one_pass_and_keep_tokens():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(10, 3, 8)).astype(np.float32)
    calls = []

    def encode(b):
        calls.append(len(b))
        return torch.as_tensor(b).transpose(1, 2)  # (b, 8 tokens, 3 dims)

    out = token_readouts(encode, x, batch_size=4, position_rows=np.arange(6), keep_tokens=True)
    assert calls == [4, 4, 2]
    np.testing.assert_allclose(out["mean"], x.mean(2), rtol=1e-5, atol=1e-7)
    assert out["stats"].shape == (10, 9) and out["tokens"].shape == (10, 8, 3)
    assert out["position_share"] == pytest.approx(_brute_force_share(x.transpose(0, 2, 1)[:6]), rel=1e-6)
    assert "position_share" not in token_readouts(encode, x)
