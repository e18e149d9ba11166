"""Attentive probe and crop protocol on tiny synthetic data: a learnable signal is learned, runs repeat."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgjepa_core.evaluation.attentive_probe import AttentiveProbeRecipe, TokenRows, attentive_probe, crop_tokens
from ecgjepa_core.evaluation.crops import crop_averaged_logits, crop_logits, random_crops, strided_crops
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.models.weimann import WeimannEncoder
from ecgjepa_core.models.weimann_config import WeimannConfig

RECIPE = AttentiveProbeRecipe(steps=150, batch_size=32, eval_every=50)


def _records(n: int, n_leads: int, T: int, fs: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, L, T) noise; label k (of 2) adds a 10 Hz sine to lead 3k. Returns records and (n, 2) multi-hot labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=(n, 2))
    x = rng.normal(0, 0.3, size=(n, n_leads, T)).astype(np.float32)
    sine = np.sin(2 * np.pi * 10 * np.arange(T) / fs).astype(np.float32)
    for k in range(2):
        x[y[:, k] == 1, 3 * k] += sine
    return x, y


def test_strided_and_random_crops():
    x = torch.arange(2 * 3 * 5000, dtype=torch.float32).reshape(2, 3, 5000)
    crops = strided_crops(x, 1250, 625)
    assert crops.shape == (2, 7, 3, 1250)
    assert torch.equal(crops[1, 6], x[1, :, 3750:5000])
    a = random_crops(x, 1250, torch.Generator().manual_seed(0))
    b = random_crops(x, 1250, torch.Generator().manual_seed(0))
    assert a.shape == (2, 3, 1250) and torch.equal(a, b)
    start = int(a[0, 0, 0].item())
    assert torch.equal(a[0], x[0, :, start:start + 1250])      # one contiguous window, all leads aligned
    with pytest.raises(ValueError, match="cannot cut"):
        strided_crops(x, 6000, 625)


def test_crop_averaged_logits_are_the_mean_of_crop_logits():
    torch.manual_seed(0)
    head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 10, 4))
    crops = torch.randn(5, 7, 3, 10)
    per_crop = crop_logits(head, crops, batch_size=4)
    assert per_crop.shape == (5, 7, 4)
    torch.testing.assert_close(crop_averaged_logits(head, crops), per_crop.mean(1))


@pytest.fixture(scope="module")
def weimann_tokens():
    torch.manual_seed(0)
    enc = WeimannEncoder(WeimannConfig(dim=32, depth=1, num_heads=2, pred_dim=8, pred_depth=1, pred_num_heads=2)).eval()
    out = {}
    for split, n, seed in (("train", 160, 0), ("val", 48, 1), ("test", 48, 2)):
        x, y = _records(n, 12, 5000, 500, seed)
        out[split] = (crop_tokens(lambda b: enc(b, with_registers=True), x, 1250, 625), y)
    return out


def test_attentive_probe_learns_a_signal_from_weimann_crops(weimann_tokens):
    (tr, ytr), (va, yva), (te, yte) = weimann_tokens["train"], weimann_tokens["val"], weimann_tokens["test"]
    assert tr.shape == (160, 7, 51, 32)      # 7 crops, register + 50 patch tokens
    res = attentive_probe(tr, ytr, va, yva, te, yte, "multilabel", num_heads=2, recipe=RECIPE, n_boot=0)
    assert res.metrics["auc"] > 0.85
    assert res.selected_epoch in (50, 100, 150)
    again = attentive_probe(tr, ytr, va, yva, te, yte, "multilabel", num_heads=2, recipe=RECIPE, n_boot=0)
    np.testing.assert_array_equal(res.test_scores, again.test_scores)


def test_attentive_probe_single_label_and_bad_shapes(weimann_tokens):
    (tr, ytr), (va, yva), (te, yte) = weimann_tokens["train"], weimann_tokens["val"], weimann_tokens["test"]
    res = attentive_probe(tr, ytr[:, 0], va, yva[:, 0], te, yte[:, 0], "multiclass", num_heads=2, recipe=RECIPE,
                          n_boot=0)
    assert res.metrics["auc_ovr"] > 0.85 and res.test_scores.shape == (48, 2)
    with pytest.raises(ValueError, match="tokens must be"):
        attentive_probe(tr[:, 0], ytr, va, yva, te, yte, "multilabel", num_heads=2, recipe=RECIPE, n_boot=0)


def test_attentive_probe_takes_kim_encoder_tokens():
    torch.manual_seed(0)
    cfg = ModelConfig(embed_dim=16, depth=1, num_heads=2, pred_embed_dim=8, pred_depth=1, pred_num_heads=2,
                      n_patches=10, patch_size=50)
    enc = Encoder(cfg).eval()
    splits = {s: _records(n, 8, 500, 250, seed) for s, n, seed in (("train", 96, 0), ("val", 32, 1), ("test", 32, 2))}
    tokens = {s: crop_tokens(enc, x, None) for s, (x, _) in splits.items()}
    assert tokens["train"].shape == (96, 1, 80, 16)          # whole records: L·P = 8 × 10 tokens
    res = attentive_probe(tokens["train"], splits["train"][1], tokens["val"], splits["val"][1], tokens["test"],
                          splits["test"][1], "multilabel", num_heads=2, recipe=RECIPE, n_boot=0)
    assert res.metrics["auc"] > 0.75


def test_token_rows_give_the_probe_of_the_copied_parts(weimann_tokens):
    """One token tensor with row indices for the parts: the same head and scores as the parts copied out of it."""
    (tr, ytr), (va, yva), (te, yte) = weimann_tokens["train"], weimann_tokens["val"], weimann_tokens["test"]
    tokens, y = torch.cat([tr, va, te]), np.concatenate([ytr, yva, yte])
    rows = np.random.default_rng(0).permutation(len(y))
    train, val, test = rows[:150], rows[150:200], rows[200:]
    copied = attentive_probe(tokens[train], y[train], tokens[val], y[val], tokens[test], y[test], "multilabel",
                             num_heads=2, recipe=RECIPE, n_boot=0)
    viewed = attentive_probe(TokenRows(tokens, train), y[train], TokenRows(tokens, val), y[val],
                             TokenRows(tokens, test), y[test], "multilabel", num_heads=2, recipe=RECIPE, n_boot=0)
    np.testing.assert_array_equal(viewed.test_scores, copied.test_scores)
    assert viewed.selected_epoch == copied.selected_epoch
    view = TokenRows(tokens, test)
    assert view.shape == tokens[test].shape and view.ndim == 4 and len(view) == len(test)
    torch.testing.assert_close(view[2:5, 1], tokens[test][2:5, 1], rtol=0, atol=0)


def test_crop_tokens_are_each_crops_encoding():
    """Batches that split a record's crops land where they belong in the (N, n, S, D) tokens."""
    x = torch.randn(5, 2, 40)
    encode = lambda b: b.reshape(len(b), 4, -1) * 2  # noqa: E731  (b, 2, 20) -> (b, 4, 10)
    tokens = crop_tokens(encode, x, 20, 10, batch_size=4)
    assert tokens.shape == (5, 3, 4, 10)
    torch.testing.assert_close(tokens[3, 2], encode(x[3:4, :, 20:40])[0], rtol=0, atol=0)
