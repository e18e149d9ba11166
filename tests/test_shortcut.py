"""The shortcut diagnostics: a trained JEPA's loss on real records, with position only, and by position means."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import ECGJEPA
from ecgjepa_core.models.weimann import WeimannJEPA
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.models.weimann_masking import sample_masks
from ecgjepa_core.training.shortcut import kim_shortcut_losses, weimann_shortcut_losses

TINY = ModelConfig(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2,
                   drop_path_rate=0.0, n_patches=10, patch_size=10)


def test_kim_real_loss_is_the_models_own_loss():
    torch.manual_seed(0)
    model = ECGJEPA(TINY).eval()
    x = torch.randn(6, 8, 100)
    masks = [model.sample_mask(torch.Generator().manual_seed(k)) for k in range(3)]
    losses = kim_shortcut_losses(model, x, masks, batch_size=4)
    with torch.no_grad():
        own = np.mean([model.step(x, m).loss.item() for m in masks])
    assert losses.real == pytest.approx(own, rel=1e-5)
    # At random init the teacher's tokens are mostly position code: the per-position mean target is far closer
    # to them than the untrained predictor, which barely reads the signal (zero input: the same loss to 1e-6).
    assert 0 < losses.position_mean < losses.real / 10
    assert losses.position_only == pytest.approx(losses.real, rel=1e-4)
    assert (losses.n_records, losses.n_masks) == (6, 3)


def test_kim_a_student_blind_to_the_signal_scores_alike_with_and_without_it():
    torch.manual_seed(1)
    model = ECGJEPA(TINY).eval()
    with torch.no_grad():
        model.student.patch_embed.weight.zero_()  # tokens carry position (and the bias) only
    x = torch.randn(5, 8, 100)
    losses = kim_shortcut_losses(model, x, [model.sample_mask(torch.Generator().manual_seed(0))])
    assert losses.position_only_ratio == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("kind", ["centred", "standardised"])
def test_position_free_targets_have_zero_batch_mean_at_every_position(kind):
    torch.manual_seed(2)
    model = ECGJEPA(TINY.replace(targets=kind)).eval()
    x = torch.randn(4, 8, 100)
    mask = model.sample_mask(torch.Generator().manual_seed(0))
    from ecgjepa_core.training.shortcut import _kim_targets
    with torch.no_grad():
        target = _kim_targets(model, x, mask)
    assert target.mean(dim=0).abs().max() < 1e-4  # float32 rounding of a mean of O(1) values
    if kind == "standardised":
        assert torch.allclose(target.std(dim=0, correction=0), torch.ones(()), atol=1e-3)
    assert torch.isfinite(model.step(x, mask).loss)


def test_weimann_losses_are_finite_and_real_is_its_l1():
    cfg = WeimannConfig.xs(dim=48, depth=1, num_heads=4, pred_dim=24, pred_depth=1, pred_num_heads=4,
                           num_registers=1)
    torch.manual_seed(3)
    model = WeimannJEPA(cfg).eval()
    x = torch.randn(3, 12, 5000)
    masks = [sample_masks(3, cfg.num_patches, cfg.min_block_size, cfg.min_keep_ratio, cfg.max_keep_ratio,
                          np.random.default_rng([0, k])) for k in range(2)]
    losses = weimann_shortcut_losses(model, x, masks)
    with torch.no_grad():
        own = np.mean([model.loss(x, keep, masked).item() for keep, masked in masks])
    assert losses.real == pytest.approx(own, rel=1e-5)
    assert np.isfinite([losses.position_only, losses.position_mean]).all()
