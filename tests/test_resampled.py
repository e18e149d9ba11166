"""Metrics on all bootstrap resamples at once equal the per-resample metrics of ``metrics.py``."""

from __future__ import annotations

import numpy as np
import pytest

from ecgjepa_core.evaluation import metrics as M
from ecgjepa_core.evaluation import resampled as R
from ecgjepa_core.evaluation.scoring import metric_functions


def _data(task: str, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    if task == "multilabel":  # rare classes and rounded scores: resamples without positives, and ties
        return (rng.random((n, 5)) < [0.05, 0.2, 0.4, 0.5, 0.7]).astype(int), np.round(rng.normal(size=(n, 5)), 1)
    y = rng.choice(5, size=n, p=[0.5, 0.3, 0.1, 0.07, 0.03])
    return y, np.round(rng.random((n, 5)), 1)


@pytest.mark.parametrize("task", ["multilabel", "multiclass"])
def test_every_resample_equals_the_metric_on_the_resampled_arrays(task):
    y, s = _data(task, 40)
    counts = R.bootstrap_counts(len(y), 300, seed=3)
    draws = np.random.default_rng(3).integers(0, len(y), size=(300, len(y)))  # metrics.bootstrap_ci's draws
    np.testing.assert_array_equal(counts, np.stack([np.bincount(d, minlength=len(y)) for d in draws]))
    for name, f in metric_functions(task).items():
        if name == "accuracy":
            continue
        slow = np.array([f(y[d], s[d]) for d in draws], dtype=float)
        fast = R.resampled(task, name, y, s, counts)
        np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow), err_msg=name)
        np.testing.assert_allclose(fast[~np.isnan(fast)], slow[~np.isnan(slow)], rtol=0, atol=1e-12, err_msg=name)


def test_interval_matches_bootstrap_ci():
    y, s = _data("multilabel", 80, seed=1)
    ci = M.bootstrap_ci(metric_functions("multilabel")["auc"], y, s, n_boot=400, seed=5)
    low, high, n_valid = R.percentile_interval(R.resampled("multilabel", "auc", y, s, R.bootstrap_counts(80, 400, 5)))
    assert (low, high, n_valid) == pytest.approx((ci.low, ci.high, ci.n_valid), abs=1e-12)


def test_undefined_everywhere_is_an_error():
    with pytest.raises(ValueError, match="undefined on every resample"):
        R.percentile_interval(np.full(10, np.nan))


def _auc_by_level_indicator(positive: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted AUC as first written: weight per score level by a product with the (N, K) level indicator."""
    _, group = np.unique(scores, return_inverse=True)
    onehot = np.zeros((len(scores), group.max() + 1))
    onehot[np.arange(len(scores)), group] = 1.0
    pos, neg = (weights * positive) @ onehot, (weights * ~positive) @ onehot
    below = np.cumsum(neg, axis=1) - neg
    total = pos.sum(1) * neg.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (pos * (below + 0.5 * neg)).sum(1) / total, np.nan)


@pytest.mark.parametrize("n", [1, 7, 300])
def test_summing_by_sorted_level_is_bitwise_the_indicator_product(n):
    """Count weights make every sum an exact integer: the O(B·N) sums give the same bits as the O(B·N·K) product
    (every committed interval stays as it was)."""
    y, s = _data("multilabel", n, seed=n)
    counts = R.bootstrap_counts(n, 500, seed=1)
    for c in range(y.shape[1]):
        np.testing.assert_array_equal(R.weighted_auc(y[:, c] == 1, s[:, c], counts),
                                      _auc_by_level_indicator(y[:, c] == 1, s[:, c], counts))
