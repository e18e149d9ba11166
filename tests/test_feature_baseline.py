"""Logistic regression on ECG features: the feature matrix, NaN handling, C selection, and that it learns."""

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.evaluation.feature_baseline import (AMPLITUDE_STATISTICS, amplitude_statistics,
                                                      ecg_feature_matrix, feature_logistic_regression)


def test_amplitude_statistics_of_a_known_signal():
    ramp = np.linspace(-1.0, 3.0, 1001)
    x = np.stack([np.stack([ramp, np.zeros_like(ramp)])])  # (1, 2, 1001); lead 1 flat
    f = amplitude_statistics(x).reshape(2, len(AMPLITUDE_STATISTICS))
    stats = dict(zip(AMPLITUDE_STATISTICS, f[0]))
    assert stats["mean"] == pytest.approx(1.0) and stats["min"] == -1.0 and stats["max"] == 3.0
    assert stats["p5"] == pytest.approx(-0.8) and stats["p95"] == pytest.approx(2.8)
    assert stats["skewness"] == pytest.approx(0.0, abs=1e-9) and stats["kurtosis"] == pytest.approx(-1.2, abs=0.01)
    np.testing.assert_array_equal(f[1], 0.0)  # a flat lead: finite, no NaN


def test_feature_matrix_joins_the_delineator_and_checks_its_input():
    x = np.random.default_rng(0).normal(size=(3, 2, 100))
    table = pd.DataFrame({"heart_rate": [60.0, np.nan, 80.0], "qrs_duration": [90.0, 100.0, np.nan]})
    f, names = ecg_feature_matrix(x, table)
    assert f.shape == (3, 2 + 2 * 8) and len(names) == f.shape[1] and names[:2] == ["heart_rate", "qrs_duration"]
    assert np.isnan(f[1, 0]) and np.isnan(f[2, 1]) and not np.isnan(f[:, 2:]).any()
    with pytest.raises(ValueError, match="3 records"):
        ecg_feature_matrix(x, table.iloc[:2])
    with pytest.raises(ValueError, match="qrs_duration"):
        ecg_feature_matrix(x, table[["heart_rate"]])


def informative(n: int, seed: int):
    """(n, 6) features, 20 % NaN in column 0, and (n, 2) labels: tachycardia-like (col 0) and wide-QRS-like (col 1)."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 6))
    y = np.stack([f[:, 0] > 0.3, f[:, 1] + 0.3 * rng.normal(size=n) > 0], axis=1).astype(np.int64)
    f[rng.random(n) < 0.2, 0] = np.nan
    return f, y


def test_logistic_regression_learns_despite_missing_values_and_picks_c_on_validation():
    (ftr, ytr), (fva, yva), (fte, yte) = informative(400, 0), informative(200, 1), informative(300, 2)
    r = feature_logistic_regression(ftr, ytr, fva, yva, fte, yte, "multilabel", n_boot=20)
    assert r.metrics["auc"] > 0.85
    best = max(r.curve, key=lambda row: (row["val_auc"], -row["C"]))
    assert r.protocol["C"] == best["C"] and len(r.curve) == 4
    fixed = feature_logistic_regression(ftr, ytr, None, None, fte, yte, "multilabel", c_without_val=0.1, n_boot=0)
    assert fixed.protocol["C"] == 0.1 and fixed.curve == [] and "fixed" in fixed.protocol["selection"]
    empty_val = feature_logistic_regression(ftr, ytr, fva[:0], yva[:0], fte, yte, "multilabel", n_boot=0)
    assert empty_val.protocol["n_val"] == 0 and empty_val.protocol["C"] == 1.0  # a split without validation
    noise = feature_logistic_regression(np.random.default_rng(3).normal(size=(400, 6)), ytr, None, None,
                                        np.random.default_rng(4).normal(size=(300, 6)), yte, "multilabel", n_boot=0)
    assert noise.metrics["auc"] < 0.65


def test_multiclass_and_a_class_absent_from_training():
    (ftr, ytr), (fte, yte) = informative(300, 0), informative(200, 1)
    cls_tr, cls_te = ytr[:, 0] + 2 * ytr[:, 1], yte[:, 0] + 2 * yte[:, 1]
    r = feature_logistic_regression(ftr, cls_tr, None, None, fte, cls_te, "multiclass", n_boot=0)
    np.testing.assert_allclose(r.test_scores.sum(1), 1.0)
    assert r.metrics["auc_ovr"] > 0.8
    single = ytr.copy()
    single[:, 1] = 0  # class 1 never positive in training
    m = feature_logistic_regression(ftr, single, None, None, fte, yte, "multilabel", n_boot=0)
    np.testing.assert_array_equal(m.test_scores[:, 1], 0.0)
    with pytest.raises(ValueError, match="NaN on every training record"):
        feature_logistic_regression(np.full((10, 2), np.nan), ytr[:10], None, None, fte, yte, "multilabel")
