"""Time masks follow the authors' arithmetic (docs/method_kim.md §5)."""

from __future__ import annotations

from collections import Counter

import torch

from ecgjepa_core.models.config import MULTIBLOCK_MASK, RANDOM_MASK, MaskConfig
from ecgjepa_core.models.masking import multiblock_time_mask, random_time_mask, sample_time_mask


def _masks(cfg, n=4000, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.stack([sample_time_mask(cfg, 50, gen) for _ in range(n)])


def test_random_mask_counts_are_30_to_34_roughly_uniform():
    counts = Counter(_masks(RANDOM_MASK).sum(1).tolist())
    assert set(counts) == {30, 31, 32, 33, 34}
    assert all(abs(c / 4000 - 0.2) < 0.03 for c in counts.values())


def test_random_mask_positions_are_uniform():
    freq = _masks(RANDOM_MASK).float().mean(0)
    assert (freq - 0.64).abs().max() < 0.06


def test_multiblock_never_masks_the_last_patch_and_tapers():
    masks = _masks(MULTIBLOCK_MASK)
    freq = masks.float().mean(0)
    assert freq[49] == 0
    assert 0.06 < freq[0] < 0.13 and 0.06 < freq[48] < 0.13
    assert 0.6 < freq[20:30].mean() < 0.72
    n = masks.sum(1)
    assert n.min() >= 8 and n.max() <= 44
    assert abs(n.float().mean().item() - 27.4) < 0.8


def test_multiblock_blocks_have_authors_lengths():
    gen = torch.Generator().manual_seed(3)
    lengths = Counter()
    for _ in range(2000):
        m = multiblock_time_mask(50, (0.175, 0.225), n_blocks=1, gen=gen)
        lengths[int(m.sum())] += 1
        idx = m.nonzero().flatten()
        assert (idx.diff() == 1).all()  # one contiguous block
    assert set(lengths) == {8, 9, 10, 11}
    assert abs(lengths[9] / 2000 - 0.4) < 0.05 and abs(lengths[8] / 2000 - 0.1) < 0.03


def test_fixed_start_rule_can_mask_the_last_patch():
    cfg = MaskConfig("block", (0.175, 0.225), block_start_excludes_last=False)
    assert _masks(cfg, 2000).float().mean(0)[49] > 0


def test_masks_are_reproducible_from_the_generator():
    a = [random_time_mask(50, (0.6, 0.7), torch.Generator().manual_seed(7)) for _ in range(2)]
    assert torch.equal(a[0], a[1])
    assert not torch.equal(_masks(MULTIBLOCK_MASK, 5, seed=1), _masks(MULTIBLOCK_MASK, 5, seed=2))
