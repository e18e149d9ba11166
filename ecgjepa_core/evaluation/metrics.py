"""Downstream metrics of docs/protocols.md §3 (linear probe, fine-tuning, feature regression), and a bootstrap CI over test records.

Shapes: N test records, C classes. Multi-label targets are multi-hot ``(N, C)`` and scores are
logits ``(N, C)``; multi-class targets are class indices ``(N,)`` and scores are softmax
probabilities ``(N, C)``. MAE comes from scikit-learn; F1, accuracy and the binary ROC-AUC is the
Mann–Whitney statistic on average ranks (:func:`binary_auc`), equal to scikit-learn's
``roc_auc_score`` (tested) and ~100× faster, which the bootstrap needs. This module decides which
classes enter a macro mean and reports the ones left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable, Literal

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import mean_absolute_error


@dataclass(frozen=True)
class MacroAUC:
    """A macro ROC-AUC with its parts.

    ``parts`` maps a class index (multi-label, one-vs-rest) or a class pair ``(a, b)``
    (one-vs-one) to its AUC. ``skipped`` lists the classes (or pairs) left out because the
    test set holds a single label value for them; ``value`` is the mean over ``parts`` only
    (NaN when nothing is left).
    """

    value: float
    parts: dict
    skipped: tuple


@dataclass(frozen=True)
class MAE:
    """Mean absolute error and the population sd (ddof 0) of |error| over ``n`` records."""

    mae: float
    sd: float
    n: int


@dataclass(frozen=True)
class BootstrapCI:
    """Percentile bootstrap interval over test records.

    ``n_valid`` of ``n_boot`` resamples gave a finite metric; the others (metric undefined on
    that resample, e.g. every class single-valued) are discarded and counted, never imputed.
    """

    point: float
    low: float
    high: float
    level: float
    n_boot: int
    n_valid: int


def binary_auc(is_positive: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC of bool labels (N,) against scores (N,): P(score_pos > score_neg) + ½·P(tie).

    Needs both label values. Ties get average ranks, which is what the trapezoidal ROC area counts.
    """
    is_positive = np.asarray(is_positive, dtype=bool)
    n_pos = int(is_positive.sum())
    n_neg = len(is_positive) - n_pos
    ranks = rankdata(scores)
    return float((ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _macro(parts: dict, skipped: list) -> MacroAUC:
    value = float(np.mean(list(parts.values()))) if parts else float("nan")
    return MacroAUC(value=value, parts=parts, skipped=tuple(skipped))


def multilabel_macro_auc(y_true: np.ndarray, scores: np.ndarray) -> MacroAUC:
    """Per-class ROC-AUC on ``scores`` (N, C), mean over the classes with both label values.

    A class whose column of ``y_true`` (N, C) is constant has no AUC; it is reported in
    ``skipped`` and left out of the mean (the reference code's rule, docs/protocols.md §3).
    """
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=float)
    _check_2d(y_true, scores)
    parts, skipped = {}, []
    for c in range(y_true.shape[1]):
        if np.unique(y_true[:, c]).size < 2:
            skipped.append(c)
        else:
            parts[c] = binary_auc(y_true[:, c] == 1, scores[:, c])
    return _macro(parts, skipped)


def multiclass_macro_auc(
    y_true: np.ndarray, probs: np.ndarray, multi_class: Literal["ovo", "ovr"]
) -> MacroAUC:
    """Macro ROC-AUC of class indices ``y_true`` (N,) against softmax ``probs`` (N, C).

    ``"ovr"``: class c vs the rest on ``probs[:, c]``, mean over classes (paper text,
    fine-tuning code). ``"ovo"``: for each pair (a, b) restricted to records of class a or b,
    the mean of AUC(a vs b on ``probs[:, a]``) and AUC(b vs a on ``probs[:, b]``), mean over
    pairs (linear-probe code; Hand & Till 2001). Both equal scikit-learn's
    ``roc_auc_score(..., multi_class=..., average="macro")`` when every class is present; a
    class absent from ``y_true`` (and every pair containing it) is skipped and reported.
    """
    y_true, probs = np.asarray(y_true), np.asarray(probs, dtype=float)
    if y_true.ndim != 1 or probs.ndim != 2 or len(y_true) != len(probs):
        raise ValueError(f"expected y_true (N,) and probs (N, C), got {y_true.shape} and {probs.shape}")
    n_classes = probs.shape[1]
    present = set(np.unique(y_true).tolist())
    parts, skipped = {}, []
    if multi_class == "ovr":
        for c in range(n_classes):
            is_c = y_true == c
            if c not in present or is_c.all():
                skipped.append(c)
            else:
                parts[c] = binary_auc(is_c, probs[:, c])
    elif multi_class == "ovo":
        for a, b in combinations(range(n_classes), 2):
            if a not in present or b not in present:
                skipped.append((a, b))
                continue
            pair = (y_true == a) | (y_true == b)
            auc_a = binary_auc(y_true[pair] == a, probs[pair, a])
            auc_b = binary_auc(y_true[pair] == b, probs[pair, b])
            parts[(a, b)] = float((auc_a + auc_b) / 2)
    else:
        raise ValueError(f"multi_class must be 'ovo' or 'ovr', got {multi_class!r}")
    return _macro(parts, skipped)


def multilabel_macro_f1(y_true: np.ndarray, logits: np.ndarray) -> float:
    """Macro F1 over classes with predictions sigmoid(logit) >= 0.5, i.e. logit >= 0; (N, C) each.

    A class with no true and no predicted positive scores 0 (scikit-learn's default value).
    """
    y_true, logits = np.asarray(y_true), np.asarray(logits, dtype=float)
    _check_2d(y_true, logits)
    return _macro_f1(y_true == 1, logits >= 0)


def _macro_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    """Mean over columns of F1 = 2TP / (2TP + FP + FN) of bool (N, K) arrays; 0 where undefined.

    Equals scikit-learn's ``f1_score(average="macro", zero_division=0)`` (tested), without its
    per-call validation cost, which dominates inside the bootstrap.
    """
    tp = (truth & pred).sum(0)
    denom = truth.sum(0) + pred.sum(0)
    return float(np.mean(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)))


def multiclass_macro_f1(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Macro F1 of argmax predictions of ``probs`` (N, C) against ``y_true`` (N,).

    Averaged over the classes present in ``y_true`` or in the predictions (scikit-learn's
    default label set, as in the reference code).
    """
    y_true, pred = np.asarray(y_true), np.argmax(probs, axis=1)
    labels = np.union1d(y_true, pred)
    return _macro_f1(y_true[:, None] == labels, pred[:, None] == labels)


def multiclass_accuracy(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Fraction of records whose argmax of ``probs`` (N, C) equals ``y_true`` (N,)."""
    return float(np.mean(np.asarray(y_true) == np.argmax(probs, axis=1)))


def multilabel_accuracy(y_true: np.ndarray, logits: np.ndarray) -> float:
    """Label-wise accuracy (mean over all N·C decisions, logit >= 0), i.e. 1 − Hamming loss.

    This is torchmetrics' macro multi-label accuracy used by the fine-tuning code, not
    scikit-learn's exact-match subset accuracy.
    """
    y_true, logits = np.asarray(y_true), np.asarray(logits, dtype=float)
    _check_2d(y_true, logits)
    return float(np.mean((y_true == 1) == (logits >= 0)))


def mae_sd(y_true: np.ndarray, y_pred: np.ndarray) -> MAE:
    """Mean ± population sd of |y_pred − y_true| over records, (N,) each (Table 5/6 format).

    NaN targets or predictions raise: drop such records explicitly before calling.
    """
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"expected two (N,) arrays, got {y_true.shape} and {y_pred.shape}")
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise ValueError("mae_sd: non-finite target or prediction; drop those records first")
    return MAE(
        mae=float(mean_absolute_error(y_true, y_pred)),
        sd=float(np.std(np.abs(y_pred - y_true))),
        n=len(y_true),
    )


def bootstrap_ci(
    metric: Callable[..., float],
    *arrays: np.ndarray,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> BootstrapCI:
    """Percentile bootstrap CI of ``metric(*arrays)`` resampling test records with replacement.

    ``arrays`` share their first axis (records); every resample draws the same record indices
    from all of them. ``metric`` returns a float, e.g. ``lambda y, s: multilabel_macro_auc(y, s).value``.
    A class missing from a resample is handled by the metric itself (the macro AUCs skip it and
    average the rest, the same rule as the point estimate); a resample on which the metric is
    NaN or raises ``ValueError`` is discarded and counted in ``n_boot − n_valid``.
    """
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("bootstrap_ci: arrays differ in their number of records")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, size=n)
        try:
            v = float(metric(*(a[idx] for a in arrays)))
        except ValueError:
            continue
        if np.isfinite(v):
            values.append(v)
    if not values:
        raise ValueError("bootstrap_ci: the metric is undefined on every resample")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return BootstrapCI(
        point=float(metric(*arrays)), low=float(low), high=float(high),
        level=level, n_boot=n_boot, n_valid=len(values),
    )


def _check_2d(y_true: np.ndarray, scores: np.ndarray) -> None:
    if y_true.ndim != 2 or y_true.shape != scores.shape:
        raise ValueError(f"expected y_true and scores of equal shape (N, C), got {y_true.shape} and {scores.shape}")
