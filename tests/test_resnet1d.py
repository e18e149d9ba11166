"""The 1-D ResNet reference trained from scratch: it learns a learnable signal, reproducibly, on crops."""

import dataclasses

import numpy as np
import pytest

from ecgjepa_core.evaluation.low_shot import low_shot_draws
from ecgjepa_core.evaluation.resnet1d import ResNetRecipe, low_shot_resnet1d, resample, train_resnet1d
from tests.test_evaluate import one_thread  # noqa: F401 (autouse fixture)

FS = 250
# 2 s records at 250 Hz, read at 100 Hz, 1.8 s training crops: the real recipe at a toy length.
TOY = ResNetRecipe(epochs=6, batch_size=32, lr=1e-2, record_seconds=2.0, crop_seconds=1.8)


def toy_records(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2, 500) noisy records and (n, 2) multi-hot labels: label k = a 5 Hz (k=0) or 12 Hz (k=1) sinusoid present."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=(n, 2))
    t = np.arange(2 * FS) / FS
    x = rng.normal(scale=0.5, size=(n, 2, len(t)))
    for k, f in enumerate((5.0, 12.0)):
        phase = rng.uniform(0, 2 * np.pi, size=(n, 2, 1))
        x += y[:, k, None, None] * np.sin(2 * np.pi * f * t + phase)
    return x.astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="module")
def data():
    return toy_records(160, 0), toy_records(64, 1), toy_records(96, 2)


@pytest.fixture(scope="module")
def run(data):
    (xtr, ytr), (xva, yva), (xte, yte) = data
    return train_resnet1d(xtr, ytr, xva, yva, xte, yte, "multilabel", TOY, seed=0, n_boot=20)


def test_resnet_learns_a_learnable_signal(run):
    assert run.metrics["auc"] > 0.9
    assert run.curve[-1]["train_loss"] < run.curve[0]["train_loss"]
    assert run.test_scores.shape == (96, 2) and run.ci["auc"].low <= run.metrics["auc"] <= run.ci["auc"].high


def test_resnet_reports_the_validation_selected_epoch(run):
    best = max(run.curve, key=lambda row: (row["val_auc"], -row["epoch"]))
    assert run.selected_epoch == best["epoch"]
    assert run.metrics["auc"] == best["test_auc"]
    assert run.protocol["selection"] == "best epoch on the validation split" and run.protocol["epochs"] == 6
    assert "resampled from 250 Hz" in run.protocol["input"]


def test_resnet_is_reproducible_and_seeded(data):
    (xtr, ytr), _, (xte, yte) = data
    short = dataclasses.replace(TOY, epochs=1)
    a, b, c = (train_resnet1d(xtr, ytr, xtr[:0], ytr[:0], xte, yte, "multilabel", short, seed=s, n_boot=0)
               for s in (0, 0, 1))  # an empty validation split counts as none
    np.testing.assert_array_equal(a.test_scores, b.test_scores)
    assert not np.allclose(a.test_scores, c.test_scores)
    assert a.protocol["selection"] == "last epoch"


def test_resnet_multiclass_gives_probabilities(data):
    (xtr, ytr), _, (xte, yte) = data
    to_class = lambda y: y[:, 0] + 2 * y[:, 1]  # noqa: E731 (4 classes)
    r = train_resnet1d(xtr, to_class(ytr), None, None, xte, to_class(yte), "multiclass",
                       dataclasses.replace(TOY, epochs=2), n_boot=0)
    np.testing.assert_allclose(r.test_scores.sum(1), 1.0, atol=1e-6)
    assert set(r.metrics) == {"auc_ovr", "auc_ovo", "f1", "accuracy"}


def test_resample_keeps_the_frequency_and_crop_must_fit():
    t = np.arange(10 * FS) / FS
    x = np.sin(2 * np.pi * 7.0 * t)[None, None].astype(np.float32)
    y = resample(x, FS, 100)
    assert y.shape == (1, 1, 1000)
    assert np.argmax(np.abs(np.fft.rfft(y[0, 0]))) == 70  # 7 Hz at 0.1 Hz resolution
    with pytest.raises(ValueError, match="does not fit"):
        train_resnet1d(x, np.ones((1, 1), int), None, None, x, np.ones((1, 1), int), "multilabel",
                       ResNetRecipe(crop_seconds=11.0))


def test_low_shot_uses_the_probe_draws_and_enough_steps(data):
    (xtr, ytr), _, (xte, yte) = data
    recipe = dataclasses.replace(TOY, epochs=1, min_steps=4)
    r = low_shot_resnet1d(xtr, ytr, xte, yte, "multilabel", 0.2, recipe, n_draws=2, n_boot=0)
    draws = low_shot_draws(160, 0.2, 2, 0)
    assert r.n_per_draw == len(draws[0]) == 32
    assert [t.protocol["n_train"] for t in r.trials] == [32, 32]
    assert r.trials[0].protocol["epochs"] == 4  # 1 step per epoch at batch 32: raised to 4 epochs
    assert [row["epoch"] for row in r.trials[0].curve] == [4]  # evaluated after the last epoch only
    assert r.sd["auc"] == pytest.approx(np.std([t.metrics["auc"] for t in r.trials]))
