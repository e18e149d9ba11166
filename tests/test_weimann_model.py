"""Weimann & Conrad's ViT family: sizes, shapes, masks, EMA and checkpoint errors (no golden files needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ecgjepa_core.checkpoint import (CheckpointMismatchError, load_weimann_classifier, load_weimann_encoder,
                                     load_weimann_jepa)
from ecgjepa_core.evaluation.features import extract_features
from ecgjepa_core.models.weimann import WeimannEncoder, WeimannJEPA, decay_parameter_names, sincos_1d
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.models.weimann_masking import WeimannMaskCollator, sample_block_mask, sample_masks

TINY = WeimannConfig(dim=16, depth=2, num_heads=2, pred_dim=8, pred_depth=1, pred_num_heads=2)


@pytest.mark.parametrize("size,count", [("xs", 3_600_000), ("s", 14_277_888), ("b", 85_185_024)])
def test_encoder_parameter_counts_are_the_papers(size, count):
    encoder = WeimannEncoder(getattr(WeimannConfig, size)())
    assert sum(p.numel() for p in encoder.parameters()) == count


def test_config_round_trips_and_rejects_unknown_fields():
    cfg = WeimannConfig.s(num_registers=2)
    assert WeimannConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown WeimannConfig fields"):
        WeimannConfig.from_dict({**cfg.to_dict(), "embed_dim": 3})
    with pytest.raises(ValueError, match="bias=True is not supported"):
        WeimannConfig.from_authors({"bias": True, "dim": 16})


def test_position_table_interleaves_sin_and_cos():
    table = sincos_1d(8, 5)
    assert torch.equal(table[0, 0::2], torch.zeros(4)) and torch.equal(table[0, 1::2], torch.ones(4))
    assert table[3, 2].item() == pytest.approx(math.sin(3 * 10000 ** (-2 / 8)), abs=1e-6)


def test_shapes_registers_and_shorter_inputs():
    torch.manual_seed(0)
    enc = WeimannEncoder(TINY).eval()
    x = torch.randn(2, 12, 5000)
    assert enc(x).shape == (2, 200, 16)
    assert enc(x, with_registers=True).shape == (2, 201, 16)
    keep = torch.tensor([[0, 5, 9], [1, 2, 3]])
    assert enc(x, keep).shape == (2, 3, 16)
    crop = x[:, :, :1250]
    assert enc(crop).shape == (2, 50, 16)
    torch.testing.assert_close(enc.representation(x), enc(x).mean(1))
    with pytest.raises(ValueError, match="all 12 leads"):
        enc.representation(x, leads=[1])
    with pytest.raises(ValueError, match="multiple of 25"):
        enc(x[:, :, :1001])
    with pytest.raises(ValueError, match="expected input"):
        enc(x[:, :8])


def test_loss_is_l1_at_masked_positions_and_ema_moves_toward_encoder():
    torch.manual_seed(0)
    jepa = WeimannJEPA(TINY)
    x = torch.randn(2, 12, 5000)
    keep, masked = sample_masks(2, 200, 10, 0.15, 0.25, np.random.default_rng(0))
    out = jepa.step(x, keep, masked)
    assert out.predictor_out.shape == (2, masked.shape[1], 16)
    target = torch.gather(out.target_tokens, 1, masked[..., None].expand(-1, -1, 16))
    assert out.loss.item() == pytest.approx((out.predictor_out - target).abs().mean().item(), rel=1e-6)
    with torch.no_grad():
        jepa.encoder.norm.weight.add_(1.0)
    jepa.update_target(0.75)
    assert torch.allclose(jepa.target_encoder.norm.weight, torch.full((16,), 1.25))
    assert jepa.momentum(0, 100) == pytest.approx(0.998) and jepa.momentum(100, 100) == pytest.approx(0.9995)
    assert jepa.momentum(50, 100) == pytest.approx((0.998 + 0.9995) / 2)


def test_weight_decay_only_on_linear_and_conv_weights():
    names = decay_parameter_names(WeimannJEPA(TINY))
    assert "encoder.patch_embed.proj.weight" in names and "predictor.embed.weight" in names
    assert not any(word in n for n in names for word in ("norm", "registers", "mask_token", "target_encoder"))


def _runs(keep_row: np.ndarray) -> list[int]:
    """Lengths of the masked runs of a (N,) bool keep mask."""
    edges = np.diff(np.concatenate([[0], (~keep_row).astype(int), [0]]))
    return list(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1))


@pytest.mark.parametrize("rng", [np.random.default_rng(7), np.random.RandomState(7)], ids=["Generator", "RandomState"])
def test_block_masks_follow_the_rule_over_many_draws(rng):
    N = 200
    for _ in range(300):
        keep, masked = sample_masks(4, N, 10, 0.15, 0.25, rng)
        K = keep.shape[1]
        assert math.ceil(0.15 * N) <= K <= math.ceil(0.25 * N)
        for k, m in zip(keep, masked):
            assert torch.all(k[1:] > k[:-1]) and torch.all(m[1:] > m[:-1])
            assert set(k.tolist()).isdisjoint(m.tolist()) and len(k) + len(m) == N
            row = np.zeros(N, dtype=bool)
            row[k.numpy()] = True
            assert min(_runs(row)) >= 10


def test_block_mask_ceil_and_errors():
    rng = np.random.default_rng(0)
    assert sample_block_mask(31, 200, 10, rng).sum() == 31
    with pytest.raises(ValueError, match="fewer than one block"):
        sample_block_mask(45, 50, 10, rng)


def test_collator_is_deterministic_per_seed_and_masks_each_sample():
    batch = [torch.randn(12, 5000) for _ in range(8)]
    a = WeimannMaskCollator.from_config(TINY, np.random.default_rng(3))(batch)
    b = WeimannMaskCollator.from_config(TINY, np.random.default_rng(3))(batch)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    x, keep, masked = a
    assert x.shape == (8, 12, 5000) and keep.shape[0] == masked.shape[0] == 8
    assert len({tuple(r.tolist()) for r in keep}) > 1  # per-sample masks


def test_loaders_name_bad_keys(tmp_path):
    jepa = WeimannJEPA(TINY)
    state = jepa.state_dict()
    state["encoder.blocks.0.attn.qkv.weight"] = torch.zeros(3, 3)
    del state["predictor.mask_token"]
    path = tmp_path / "bad.pt"
    torch.save({"model": state, "config": {**TINY.to_dict(), "bias": False}, "optimizer": {}, "step": 0}, path)
    with pytest.raises(CheckpointMismatchError, match="predictor.mask_token") as err:
        load_weimann_jepa(path)
    assert "encoder.blocks.0.attn.qkv.weight" in str(err.value)
    with pytest.raises(CheckpointMismatchError, match="not a Weimann"):
        torch.save({"encoder": {}}, path)
        load_weimann_encoder(path)
    torch.save({"model": {}, "config": TINY.to_dict()}, path)
    with pytest.raises(CheckpointMismatchError, match="eval_config"):
        load_weimann_classifier(path)


def test_shared_feature_extraction_takes_the_weimann_encoder():
    torch.manual_seed(0)
    enc = WeimannEncoder(TINY)
    x = np.random.default_rng(0).normal(size=(5, 12, 1250)).astype(np.float32)
    feats = extract_features(enc, x, batch_size=2, progress=False)
    assert feats.shape == (5, 16)
    np.testing.assert_allclose(feats, enc.eval()(torch.from_numpy(x)).mean(1).detach().numpy(), atol=1e-6)
