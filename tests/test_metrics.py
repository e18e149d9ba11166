import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from ecgjepa_core.evaluation.metrics import (
    bootstrap_ci,
    mae_sd,
    multiclass_accuracy,
    multiclass_macro_auc,
    multiclass_macro_f1,
    multilabel_accuracy,
    multilabel_macro_auc,
    multilabel_macro_f1,
)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def multilabel():
    rng = np.random.default_rng(1)
    y = (rng.random((200, 5)) < 0.3).astype(int)
    logits = 1.5 * y + rng.normal(size=y.shape) - 0.5
    return y, logits


@pytest.fixture
def multiclass():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, size=300)
    probs = _softmax(rng.normal(size=(300, 4)) + 1.2 * np.eye(4)[y])
    return y, probs


def test_multilabel_auc_hand_computed():
    # class 0: positives score 0.9, 0.4; negatives 0.5, 0.1 -> 3 of 4 pairs ordered -> 0.75
    # class 1: perfectly separated -> 1.0
    y = np.array([[1, 1], [1, 0], [0, 1], [0, 0]])
    s = np.array([[0.9, 5.0], [0.4, -1.0], [0.5, 3.0], [0.1, -2.0]])
    res = multilabel_macro_auc(y, s)
    assert res.parts == {0: 0.75, 1: 1.0}
    assert res.value == pytest.approx(0.875)
    assert res.skipped == ()


def test_multilabel_auc_skips_single_valued_class_and_reports_it(multilabel):
    y, s = multilabel
    y = y.copy()
    y[:, 2] = 0
    res = multilabel_macro_auc(y, s)
    assert res.skipped == (2,)
    expected = np.mean([roc_auc_score(y[:, c], s[:, c]) for c in (0, 1, 3, 4)])
    assert res.value == pytest.approx(expected)


def test_multilabel_auc_agrees_with_sklearn_macro(multilabel):
    y, s = multilabel
    assert multilabel_macro_auc(y, s).value == pytest.approx(roc_auc_score(y, s, average="macro"))


def test_perfect_and_chance_scores(multilabel):
    y, _ = multilabel
    assert multilabel_macro_auc(y, 2.0 * y - 1).value == 1.0
    assert multilabel_macro_f1(y, 2.0 * y - 1) == 1.0
    assert multilabel_macro_auc(y, np.zeros(y.shape)).value == 0.5
    rng = np.random.default_rng(0)
    big = (rng.random((20000, 3)) < 0.5).astype(int)
    assert multilabel_macro_auc(big, rng.normal(size=big.shape)).value == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("kind", ["ovo", "ovr"])
def test_multiclass_auc_agrees_with_sklearn(multiclass, kind):
    y, p = multiclass
    ours = multiclass_macro_auc(y, p, kind)
    assert ours.value == pytest.approx(roc_auc_score(y, p, multi_class=kind, average="macro"))
    assert ours.skipped == ()
    assert len(ours.parts) == (6 if kind == "ovo" else 4)


def test_ovo_and_ovr_differ_on_constructed_case():
    # Class 2 is rare and its records score high on class 1: OvR for class 1 is hurt by all
    # class-2 records at once, while OvO averages pairs with equal weight.
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2])
    p = np.array([
        [0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.4, 0.5, 0.1],
        [0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.8, 0.1],
        [0.05, 0.9, 0.05],
    ])
    ovo = multiclass_macro_auc(y, p, "ovo").value
    ovr = multiclass_macro_auc(y, p, "ovr").value
    assert ovo == pytest.approx(roc_auc_score(y, p, multi_class="ovo"))
    assert ovr == pytest.approx(roc_auc_score(y, p, multi_class="ovr"))
    assert abs(ovo - ovr) > 0.05


def test_multiclass_auc_skips_absent_class(multiclass):
    y, p = multiclass
    keep = y != 3
    ovr = multiclass_macro_auc(y[keep], p[keep], "ovr")
    ovo = multiclass_macro_auc(y[keep], p[keep], "ovo")
    assert ovr.skipped == (3,)
    assert ovo.skipped == ((0, 3), (1, 3), (2, 3))
    assert len(ovo.parts) == 3 and np.isfinite(ovo.value)


def test_multiclass_auc_rejects_unknown_kind(multiclass):
    with pytest.raises(ValueError, match="ovo"):
        multiclass_macro_auc(*multiclass, "macro")


def test_multilabel_f1_threshold_is_sigmoid_half():
    y = np.array([[1], [1], [0], [0]])
    logits = np.array([[0.0], [-0.01], [0.3], [-2.0]])  # predictions 1, 0, 1, 0
    # tp 1, fp 1, fn 1 -> F1 = 2 / (2 + 1 + 1)
    assert multilabel_macro_f1(y, logits) == pytest.approx(0.5)


def test_f1_and_accuracy_agree_with_sklearn(multilabel, multiclass):
    y, s = multilabel
    assert multilabel_macro_f1(y, s) == pytest.approx(f1_score(y, (s >= 0).astype(int), average="macro"))
    assert multilabel_accuracy(y, s) == pytest.approx(np.mean(y == (s >= 0)))
    yc, p = multiclass
    assert multiclass_macro_f1(yc, p) == pytest.approx(f1_score(yc, p.argmax(1), average="macro"))
    assert multiclass_accuracy(yc, p) == pytest.approx(np.mean(yc == p.argmax(1)))


def test_mae_sd_hand_computed():
    res = mae_sd(np.array([60.0, 70.0, 80.0, 90.0]), np.array([61.0, 67.0, 80.0, 94.0]))
    # |errors| 1, 3, 0, 4 -> mean 2, population sd sqrt(2.5)
    assert (res.mae, res.n) == (2.0, 4)
    assert res.sd == pytest.approx(np.sqrt(2.5))


def test_mae_sd_refuses_nan():
    with pytest.raises(ValueError, match="non-finite"):
        mae_sd(np.array([1.0, np.nan]), np.array([1.0, 2.0]))


def test_bootstrap_contains_point_and_is_reproducible(multilabel):
    y, s = multilabel[0][:, :2], multilabel[1][:, :2]  # two classes keep the resampling cheap

    def auc(a, b):
        return multilabel_macro_auc(a, b).value

    ci = bootstrap_ci(auc, y, s, n_boot=80, seed=7)
    assert ci.point == pytest.approx(multilabel_macro_auc(y, s).value)
    assert ci.low < ci.point < ci.high
    assert 0.02 < ci.high - ci.low < 0.2
    assert ci.n_valid == 80
    assert bootstrap_ci(auc, y, s, n_boot=80, seed=7) == ci
    assert bootstrap_ci(auc, y, s, n_boot=80, seed=8) != ci


def test_bootstrap_counts_undefined_resamples():
    # One positive in 30 records: about (29/30)^30 ≈ 36 % of resamples miss it, so the only
    # class is single-valued there and the macro AUC is NaN -> discarded and counted.
    y = np.zeros((30, 1), dtype=int)
    y[0, 0] = 1
    s = np.linspace(0, 1, 30)[::-1, None]
    ci = bootstrap_ci(lambda a, b: multilabel_macro_auc(a, b).value, y, s, n_boot=300, seed=0)
    assert 0.25 * 300 < 300 - ci.n_valid < 0.5 * 300
    assert ci.point == 1.0 and ci.low == pytest.approx(1.0) and ci.high == pytest.approx(1.0)


def test_bootstrap_rejects_mismatched_records():
    with pytest.raises(ValueError, match="number of records"):
        bootstrap_ci(lambda a, b: 0.0, np.zeros(3), np.zeros(4))


def test_binary_auc_equals_sklearn_with_ties():
    from ecgjepa_core.evaluation.metrics import binary_auc

    rng = np.random.default_rng(5)
    for _ in range(20):
        y = rng.integers(0, 2, 40)
        y[:2] = [0, 1]
        s = rng.integers(0, 6, 40).astype(float)  # many ties
        assert binary_auc(y == 1, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_macro_f1_equals_sklearn():
    from ecgjepa_core.evaluation.metrics import multiclass_macro_f1, multilabel_macro_f1

    rng = np.random.default_rng(6)
    for _ in range(20):
        y = rng.integers(0, 2, (30, 5))
        y[:, 4] = 0  # a class with no positives
        logits = rng.normal(size=(30, 5))
        assert multilabel_macro_f1(y, logits) == pytest.approx(
            f1_score(y, (logits >= 0).astype(int), average="macro", zero_division=0), abs=1e-12)
        yc = rng.integers(0, 4, 30)
        probs = rng.dirichlet(np.ones(6), 30)  # predictions may name classes absent from y
        assert multiclass_macro_f1(yc, probs) == pytest.approx(
            f1_score(yc, probs.argmax(1), average="macro", zero_division=0), abs=1e-12)
