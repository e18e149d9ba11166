"""Classification metrics on every bootstrap resample at once.

A resample is a vector of counts: how often each test record was drawn. The macro AUCs and F1s of
``metrics.py`` are then weighted sums over records, computed for all resamples with a few matrix
products instead of one Python call per resample. The values equal those of ``metrics.py`` on the
resampled arrays (tested), including its rules for classes a resample cannot score: a macro AUC
leaves out classes (or class pairs) without both label values and is undefined (NaN) when none is
left; multi-class F1 averages over the classes present in the resample's labels or predictions.
The draws are those of ``metrics.bootstrap_ci`` for the same seed.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def bootstrap_counts(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(B, N) draw counts of ``n_boot`` resamples of ``n`` records, the draws of ``metrics.bootstrap_ci``."""
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    counts = np.zeros((n_boot, n))
    np.add.at(counts, (np.arange(n_boot)[:, None], idx), 1.0)
    return counts


def weighted_auc(positive: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B,) ROC-AUC of bool labels (N,) against scores (N,) under record weights (B, N); NaN where a
    resample lacks positives or negatives. Ties count one half, as average ranks do.

    The weight per score level is summed over the records sorted by score (O(B·N), not the O(B·N·K) of a
    product with the (N, K) level indicator); with count weights every sum is an exact integer, so the
    result does not depend on the order of summation."""
    if not len(scores):
        return np.full(len(weights), np.nan)
    _, group = np.unique(scores, return_inverse=True)
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0])  # first record of each score level
    w, positive = weights[:, order], positive[order]
    pos = np.add.reduceat(w * positive, starts, axis=1)   # (B, K) positive weight per score level
    neg = np.add.reduceat(w * ~positive, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg               # negative weight strictly below each level
    total = pos.sum(1) * neg.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (pos * (below + 0.5 * neg)).sum(1) / total, np.nan)


def _mean_defined(parts: list[np.ndarray]) -> np.ndarray:
    """(B,) mean over the defined parts of each resample; NaN where none is defined."""
    stacked = np.stack(parts, axis=1)
    defined = np.isfinite(stacked)
    count = defined.sum(1)
    total = np.where(defined, stacked, 0.0).sum(1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def multilabel_macro_auc(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return _mean_defined([weighted_auc(y[:, c] == 1, scores[:, c], weights) for c in range(y.shape[1])])


def multiclass_macro_auc(y: np.ndarray, probs: np.ndarray, weights: np.ndarray, multi_class: str) -> np.ndarray:
    n_classes = probs.shape[1]
    if multi_class == "ovr":
        return _mean_defined([weighted_auc(y == c, probs[:, c], weights) for c in range(n_classes)])
    parts = []
    for a, b in combinations(range(n_classes), 2):
        pair = (y == a) | (y == b)
        w = weights[:, pair]
        parts.append((weighted_auc(y[pair] == a, probs[pair, a], w) + weighted_auc(y[pair] == b, probs[pair, b], w)) / 2)
    return _mean_defined(parts)


def _macro_f1(truth: np.ndarray, pred: np.ndarray, weights: np.ndarray, include: np.ndarray | None = None
              ) -> np.ndarray:
    """(B,) mean over the K columns (or those ``include`` (B, K) marks) of weighted F1 of bool (N, K) arrays."""
    tp = weights @ (truth & pred)
    denom = weights @ truth + weights @ pred
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1e-300), 0.0)
    if include is None:
        return f1.mean(1)
    return (f1 * include).sum(1) / include.sum(1)


def multilabel_macro_f1(y: np.ndarray, logits: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return _macro_f1(y == 1, logits >= 0, weights)


def multiclass_macro_f1(y: np.ndarray, probs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    classes = np.arange(probs.shape[1])
    truth, pred = y[:, None] == classes, probs.argmax(1)[:, None] == classes
    include = ((weights @ truth) > 0) | ((weights @ pred) > 0)
    return _macro_f1(truth, pred, weights, include)


def resampled(task: str, name: str, y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B,) metric ``name`` (a key of ``scoring.metric_functions``) of ``task`` on every resample."""
    y, scores = np.asarray(y), np.asarray(scores, dtype=float)
    if task == "multilabel":
        return {"auc": lambda: multilabel_macro_auc(y, scores, weights),
                "f1": lambda: multilabel_macro_f1(y, scores, weights)}[name]()
    return {"auc_ovr": lambda: multiclass_macro_auc(y, scores, weights, "ovr"),
            "auc_ovo": lambda: multiclass_macro_auc(y, scores, weights, "ovo"),
            "f1": lambda: multiclass_macro_f1(y, scores, weights)}[name]()


def seed_mean_resampled(task: str, name: str, y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B,) mean over the seeds of ``scores`` (S, N, C) of the metric on every resample."""
    return np.mean([resampled(task, name, y, s, weights) for s in scores], axis=0)


def nested_seed_mean_resampled(task: str, name: str, y: np.ndarray, scores: np.ndarray, groups: np.ndarray | None,
                               weights: np.ndarray, seed: int) -> np.ndarray:
    """(B,) the seed-mean metric on every resample, the pretraining runs redrawn too (a nested bootstrap).

    ``groups`` (S,) names the pretraining run behind each of the S score sets (its probe seeds share it). Each
    resample b draws G runs with replacement from the G runs (numpy generator ``seed``) and averages, over the
    drawn runs, the mean metric of each run's score sets on the records ``weights[b]``. One run (or ``groups``
    None): :func:`seed_mean_resampled`.
    """
    if groups is None or len(np.unique(groups)) == 1:
        return seed_mean_resampled(task, name, y, scores, weights)
    per_set = np.stack([resampled(task, name, y, s, weights) for s in scores])          # (S, B)
    runs = np.unique(groups)
    per_run = np.stack([per_set[groups == g].mean(0) for g in runs])                   # (G, B)
    draws = np.random.default_rng(seed).integers(0, len(runs), size=(weights.shape[0], len(runs)))
    return per_run[draws, np.arange(weights.shape[0])[:, None]].mean(1)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, int]:
    """(low, high, number of defined resamples) of the percentile interval over the finite values."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        raise ValueError("the metric is undefined on every resample")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high), len(finite)
