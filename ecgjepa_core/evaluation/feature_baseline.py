"""A reference that needs no learned representation: logistic regression on simple ECG features.

Features of a record (L leads): heart rate and QRS duration from the project's delineator
(``ecg_features``; NaN where it declines, imputed with the training median plus a 0/1
"missing" column each), and per-lead amplitude statistics of the signal (mean, sd, min, max,
5th and 95th percentile, skewness, kurtosis). On per-lead z-scored inputs the mean and sd are
constant and carry nothing; the shape statistics still do. Features are z-scored with the
training records' statistics; one L2-regularised logistic regression per class (multi-label)
or one multinomial model (multi-class); the inverse regularisation strength C is chosen on the
validation split's headline metric when there is one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import kurtosis, skew
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from ecgjepa_core.evaluation.scoring import (ClassificationResult, Task, bootstrap_cis, check_task, evaluate_scores,
                                          headline_metric, n_outputs, skipped_classes)

AMPLITUDE_STATISTICS = ("mean", "sd", "min", "max", "p5", "p95", "skewness", "kurtosis")
DELINEATOR_FEATURES = ("heart_rate", "qrs_duration")
C_GRID = (0.01, 0.1, 1.0, 10.0)


def amplitude_statistics(signals: np.ndarray, chunk: int = 128) -> np.ndarray:
    """(N, L, T) -> (N, L · 8): per lead, the statistics of ``AMPLITUDE_STATISTICS`` in that order, lead-major.

    Computed in float64, ``chunk`` records at a time (a float16 study array would not fit in memory as float64).
    """
    if np.ndim(signals) != 3:
        raise ValueError(f"signals must be (N, L, T), got shape {np.shape(signals)}")
    out = []
    for start in range(0, len(signals), chunk):
        x = np.asarray(signals[start:start + chunk], dtype=np.float64)
        p5, p95 = np.percentile(x, [5, 95], axis=-1)
        stats = [x.mean(-1), x.std(-1), x.min(-1), x.max(-1), p5, p95, skew(x, axis=-1), kurtosis(x, axis=-1)]
        out.append(np.stack(stats, axis=-1).reshape(len(x), -1))
    # A flat lead has no skewness or kurtosis (scipy gives NaN): count it as symmetric and light-tailed.
    return np.nan_to_num(np.concatenate(out), nan=0.0)


def ecg_feature_matrix(signals: np.ndarray, delineated: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """(N, L, T) signals and their delineator table (one row per record, same order, columns ``heart_rate`` and
    ``qrs_duration`` as ``ecg_feature_table`` gives) -> ((N, 2 + L · 8) features with NaN where the delineator
    declined, feature names)."""
    missing = [c for c in DELINEATOR_FEATURES if c not in delineated.columns]
    if missing:
        raise ValueError(f"delineator table lacks columns {missing}; expected the output of ecg_feature_table")
    if len(delineated) != len(signals):
        raise ValueError(f"delineator table has {len(delineated)} rows for {len(signals)} records")
    n_leads = np.shape(signals)[1]
    names = [*DELINEATOR_FEATURES, *(f"lead{lead}_{s}" for lead in range(n_leads) for s in AMPLITUDE_STATISTICS)]
    return np.hstack([delineated[list(DELINEATOR_FEATURES)].to_numpy(np.float64), amplitude_statistics(signals)]), names


class FeatureScaler:
    """Training-median imputation (with a 0/1 column per feature that had NaN in training) and z-scoring."""

    def __init__(self, train: np.ndarray):
        if np.isnan(train).all(axis=0).any():
            raise ValueError("a feature is NaN on every training record; drop it before fitting")
        self.median = np.nanmedian(train, axis=0)
        self.flagged = np.flatnonzero(np.isnan(train).any(axis=0))
        filled = self._fill(train)
        self.mean, sd = filled.mean(0), filled.std(0)
        self.sd = np.where(sd > 0, sd, 1.0)  # constant features are only centred

    def _fill(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        flags = np.isnan(x[:, self.flagged]).astype(np.float64)
        return np.hstack([np.where(np.isnan(x), self.median, x), flags])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (self._fill(x) - self.mean) / self.sd


def fit_scores(f_train: np.ndarray, y_train: np.ndarray, f_eval: list[np.ndarray], task: Task, c: float,
               n_classes: int, seed: int) -> list[np.ndarray]:
    """Fit on scaled training features; (N, C) scores of each array in ``f_eval``: decision values per class
    (multi-label; a class with a single label value in training scores 0 everywhere) or class probabilities
    (multi-class; classes absent from training get 0)."""
    def model() -> LogisticRegression:
        return LogisticRegression(C=c, max_iter=5000, random_state=seed)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task == "multilabel":
            out = [np.zeros((len(f), n_classes)) for f in f_eval]
            for k in range(n_classes):
                if len(np.unique(y_train[:, k])) < 2:
                    continue  # nothing to learn: every record scores the same
                clf = model().fit(f_train, y_train[:, k])
                for o, f in zip(out, f_eval):
                    o[:, k] = clf.decision_function(f)
            return out
        clf = model().fit(f_train, y_train)
        out = [np.zeros((len(f), n_classes)) for f in f_eval]
        for o, f in zip(out, f_eval):
            o[:, clf.classes_] = clf.predict_proba(f)
        return out


def feature_logistic_regression(f_train: np.ndarray, y_train: np.ndarray, f_val: np.ndarray | None,
                                y_val: np.ndarray | None, f_test: np.ndarray, y_test: np.ndarray, task: Task,
                                c_grid: tuple[float, ...] = C_GRID, c_without_val: float = 1.0, seed: int = 0,
                                n_classes: int | None = None, n_boot: int = 1000, split: str = "",
                                feature_names: list[str] | None = None) -> ClassificationResult:
    """Logistic regression on (N, F) features (NaN allowed, see :class:`FeatureScaler`); test metrics at the C
    with the best validation headline metric (or ``c_without_val`` when the validation split is absent or empty).

    ``selected_epoch`` is 1 (a single fit); ``curve`` holds one row per C tried with its validation metrics;
    ``feature_names`` (e.g. from :func:`ecg_feature_matrix`) only label the protocol.
    """
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    has_val = f_val is not None and y_val is not None and len(y_val) > 0
    for y in (y_train, y_test, *([np.asarray(y_val)] if has_val else [])):
        check_task(task, y)
    n_out = n_classes or n_outputs(task, y_train, y_test, *([np.asarray(y_val)] if has_val else []))
    scale = FeatureScaler(np.asarray(f_train))
    s_train, s_test = scale(f_train), scale(f_test)
    key = headline_metric(task)
    curve = []
    if has_val:
        s_val = scale(f_val)
        for c in c_grid:
            (val_scores,) = fit_scores(s_train, y_train, [s_val], task, c, n_out, seed)
            curve.append({"C": c, **{f"val_{k}": v for k, v in evaluate_scores(task, np.asarray(y_val),
                                                                                 val_scores).items()}})
        best = max(curve, key=lambda row: (row[f"val_{key}"], -row["C"]))["C"]  # ties: stronger regularisation
    else:
        best = c_without_val
    (scores,) = fit_scores(s_train, y_train, [s_test], task, best, n_out, seed)
    n_features = np.shape(f_train)[1]
    protocol = {
        "protocol": "logistic regression on hand-crafted ECG features",
        "task": task,
        "features": f"{n_features}" + (f" ({', '.join(feature_names[:4])}, …)" if feature_names else ""),
        "preprocessing": "training-median imputation with missing-value flags, z-scored with training statistics",
        "model": "L2 logistic regression, lbfgs, one per class" if task == "multilabel" else
                 "L2 multinomial logistic regression, lbfgs",
        "C": best, "selection": f"C from {list(c_grid)} by validation {key}" if has_val else f"fixed C {best:g}",
        "seed": seed, "n_train": len(y_train), "n_test": len(y_test), "n_val": len(y_val) if has_val else 0,
        "split": split, "bootstrap": f"{n_boot} resamples of test records, seed {seed}",
    }
    return ClassificationResult(
        task=task, metrics=evaluate_scores(task, y_test, scores), selected_epoch=1, scores_epoch=1, y_test=y_test,
        test_scores=scores, curve=curve, ci=bootstrap_cis(task, y_test, scores, n_boot, seed),
        skipped=skipped_classes(task, y_test, scores), protocol=protocol)
