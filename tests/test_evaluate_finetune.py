"""Fine-tuning (docs/protocols.md §4) and the no-outside-weights baselines (docs/protocols.md §8) on a tiny encoder."""

import dataclasses

import numpy as np
import pytest
import torch

from ecgjepa_core.evaluation import (FINETUNE_CODE, FINETUNE_PAPER, finetune, random_encoder,
                                     random_init_linear_probe, supervised_from_scratch)
from ecgjepa_core.evaluation.scoring import balanced_class_weights, loss_fn
from tests.test_evaluate import one_thread, tiny_cfg, toy_signals  # noqa: F401 (autouse fixture)

# A faster-learning variant for toy data; everything else is the named recipe.
FAST_PAPER = dataclasses.replace(FINETUNE_PAPER, base_lr=0.05, epochs=4, warmup_epochs=1)
FAST_CODE = dataclasses.replace(FINETUNE_CODE, base_lr=0.05, epochs=2, warmup_epochs=1)


@pytest.fixture(scope="module")
def data():
    xtr, ytr = toy_signals(96, seed=0)
    xte, yte = toy_signals(48, seed=1)
    return xtr, ytr, xte, yte


@pytest.fixture(scope="module")
def paper_run(data):
    encoder = random_encoder(tiny_cfg(drop_path_rate=0.1), seed=0)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    result = finetune(encoder, *data, "multiclass", recipe=FAST_PAPER, n_boot=20, progress=False)
    return encoder, before, result


def test_finetune_updates_a_copy_of_the_encoder(paper_run):
    encoder, before, result = paper_run
    for k, v in encoder.state_dict().items():
        assert torch.equal(v, before[k]), f"caller's encoder changed: {k}"
    tuned = result.model.encoder.state_dict()
    changed = [k for k, v in before.items() if v.dtype.is_floating_point and not torch.equal(tuned[k], v)]
    assert "patch_embed.weight" in changed and "blocks.0.attn.qkv.weight" in changed
    assert torch.equal(tuned["pos_embed"], before["pos_embed"])  # fixed table, a buffer
    assert all(m.p == 0.0 for m in result.model.encoder.modules() if hasattr(m, "p"))


def test_finetune_improves_over_its_own_start(paper_run):
    _, _, r = paper_run
    start, end = r.curve[0], r.curve[-1]
    assert start["epoch"] == 0 and len(r.curve) == FAST_PAPER.epochs + 1
    assert end["test_auc_ovr"] > start["test_auc_ovr"] + 0.1
    assert end["test_accuracy"] > 0.6  # 3 balanced classes: chance is 1/3
    assert r.curve[-1]["train_loss"] < r.curve[1]["train_loss"]
    assert r.metrics == {k[5:]: v for k, v in end.items() if k.startswith("test_")}
    p = r.protocol
    assert p["bandpass"] == "none" and p["augment"] == "none" and "0.999" in p["optimiser"]
    assert p["n_train"] == 96 and p["selection"] == "last epoch"


def test_code_recipe_filters_augments_and_is_reproducible(data):
    enc = random_encoder(tiny_cfg(), seed=0)
    a = finetune(enc, *data, "multiclass", recipe=FAST_CODE, n_boot=0, progress=False)
    b = finetune(enc, *data, "multiclass", recipe=FAST_CODE, n_boot=0, progress=False)
    c = finetune(enc, *data, "multiclass", recipe=FAST_CODE, seed=1, n_boot=0, progress=False)
    no_aug = finetune(enc, *data, "multiclass", recipe=dataclasses.replace(FAST_CODE, augment=False), n_boot=0,
                      progress=False)
    np.testing.assert_array_equal(a.test_scores, b.test_scores)
    assert not np.allclose(a.test_scores, c.test_scores)
    assert not np.allclose(a.test_scores, no_aug.test_scores)  # augmentation is really applied
    assert "0.67 Hz" in a.protocol["bandpass"] and "RandAugment" in a.protocol["augment"]
    assert "(0.9, 0.95)" in a.protocol["optimiser"]
    # Epoch 0 differs between filtered and raw inputs: the filter reaches the test set too.
    raw = finetune(enc, *data, "multiclass", recipe=dataclasses.replace(FAST_CODE, bandpass=False, epochs=1),
                   n_boot=0, progress=False)
    assert raw.curve[0]["test_auc_ovo"] != a.curve[0]["test_auc_ovo"]


def test_finetune_selection_modes_and_multilabel(data):
    xtr, ytr, xte, yte = data
    to_multi = lambda y: np.stack([y == 0, y == 2], axis=1).astype(np.int64)  # noqa: E731
    enc = random_encoder(tiny_cfg(), seed=0)
    kw = dict(recipe=FAST_PAPER, n_boot=10, progress=False, val_x=xte[:24], val_y=to_multi(yte[:24]))
    best = finetune(enc, xtr, to_multi(ytr), xte, to_multi(yte), "multilabel", select="test_best", **kw)
    val = finetune(enc, xtr, to_multi(ytr), xte, to_multi(yte), "multilabel", select="val", **kw)
    trained = best.curve[1:]
    for m in ("auc", "f1", "accuracy"):
        assert best.metrics[m] == max(row[f"test_{m}"] for row in trained)
    assert "test-set selection as in the paper" in best.protocol["selection"]
    assert set(best.selected_epoch) == {"auc", "f1", "accuracy"}
    e = val.selected_epoch
    assert 1 <= e <= FAST_PAPER.epochs and val.metrics["auc"] == val.curve[e]["test_auc"]
    assert val.curve[e]["val_auc"] == max(row["val_auc"] for row in trained)
    assert best.test_scores.shape == (48, 2)


def test_reduced_lead_finetune_and_fp16_guard(data):
    enc = random_encoder(tiny_cfg(), seed=0)
    r = finetune(enc, *data, "multiclass", leads=[1, 2], recipe=dataclasses.replace(FAST_PAPER, epochs=1),
                 n_boot=0, progress=False)
    assert r.protocol["leads"] == [1, 2] and r.model.leads == [1, 2]
    with pytest.raises(ValueError, match="CUDA"):
        finetune(enc, *data, "multiclass", precision="fp16", recipe=FAST_PAPER, n_boot=0, progress=False)


def test_bf16_finetune_runs(data):
    enc = random_encoder(tiny_cfg(), seed=0)
    r = finetune(enc, *data, "multiclass", precision="bf16", recipe=dataclasses.replace(FAST_PAPER, epochs=1),
                 n_boot=0, progress=False)
    assert np.isfinite(r.curve[-1]["train_loss"]) and r.protocol["precision"] == "bf16"


def test_random_init_baselines_run(data):
    xtr, ytr, xte, yte = data
    probe = random_init_linear_probe(tiny_cfg(), xtr, ytr, xte, yte, "multiclass", n_boot=0)
    assert "random init" in probe.protocol["encoder"] and probe.metrics["auc_ovr"] > 0.5
    scratch = supervised_from_scratch(tiny_cfg(), xtr, ytr, xte, yte, "multiclass", epochs=2,
                                      recipe=FAST_PAPER, n_boot=0, progress=False)
    assert scratch.protocol["epochs"] == 2 and "supervised from scratch" in scratch.protocol["recipe"]
    assert "downstream task only" in scratch.protocol["encoder"]


def test_balanced_weights_give_every_class_the_same_total_weight():
    y = np.array([0, 0, 0, 0, 0, 0, 2, 2])  # class 1 absent
    w = balanced_class_weights("multiclass", y, 3)
    assert torch.allclose(w, torch.tensor([8 / 12, 0.0, 8 / 4]))
    per_class = np.bincount(y, weights=w.numpy()[y], minlength=3)
    assert per_class[0] == pytest.approx(per_class[2])
    # the weighted loss is the mean over classes of each class's mean loss
    logits = torch.randn(len(y), 3, generator=torch.Generator().manual_seed(0))
    each = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y), reduction="none")
    want = (each[:6].mean() + each[6:].mean()) / 2
    assert float(loss_fn("multiclass", w)(logits, torch.as_tensor(y))) == pytest.approx(float(want), rel=1e-6)
    ml = balanced_class_weights("multilabel", np.array([[1, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 1]]), 3)
    assert torch.allclose(ml, torch.tensor([3.0, 1.0, 1.0]))  # 3 negatives per positive; no positive; no negative


def test_balanced_finetune_says_its_loss_and_rejects_unknown_weights(data):
    xtr, ytr, xte, yte = data
    keep = np.concatenate([np.flatnonzero(ytr == 0), np.flatnonzero(ytr != 0)[:16]])  # 32 of class 0, 16 others
    args = (random_encoder(tiny_cfg(), seed=0), xtr[keep], ytr[keep], xte, yte, "multiclass")
    plain = finetune(*args, recipe=FAST_CODE, n_boot=0, progress=False)
    balanced = finetune(*args, recipe=FAST_CODE, n_boot=0, progress=False, class_weights="balanced")
    assert balanced.protocol["loss"] == "cross-entropy, classes weighted by inverse training frequency"
    assert plain.protocol["loss"] == "cross-entropy"
    assert not np.array_equal(plain.test_scores, balanced.test_scores)
    with pytest.raises(ValueError, match="class_weights"):
        finetune(*args, recipe=FAST_CODE, n_boot=0, progress=False, class_weights="inverse")
