"""Weimann & Conrad's per-sample block masks and the data-side collator that draws them.

Rule (their ``data/masks.py``): one keep ratio per batch, uniform in [min_keep_ratio, max_keep_ratio],
``ceil(ratio · N)`` tokens kept. Each sample gets its own mask of contiguous masked blocks: while
tokens remain to be masked, pick a free interval with probability proportional to its length, draw
a block length uniform in [min_block_size, remaining]; a block at least as long as its interval
takes the whole interval, otherwise it is placed uniformly inside it. A remainder shorter than
min_block_size is attached to a neighbouring masked block (the start or end of its interval that
touches one).

The draws come from an explicit numpy generator. numpy, not torch, because the masks are made in
the data collator and their code draws with numpy: given a ``numpy.random.RandomState`` the
sequence of draws is theirs bit for bit (``np.random.seed(s)`` seeds such a state), and a
``numpy.random.Generator`` gives the same rule with numpy's recommended generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ecgjepa_core.models.weimann_config import WeimannConfig

Rng = np.random.Generator | np.random.RandomState


def _integer(rng: Rng, low: int, high: int) -> int:
    """Uniform integer in [low, high)."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(low, high))
    return int(rng.randint(low, high))


def sample_keep_count(num_patches: int, min_keep_ratio: float, max_keep_ratio: float, rng: Rng) -> int:
    """ceil(ratio · N) for one keep ratio uniform in [min, max]: the kept tokens of every sample in a batch."""
    return math.ceil(rng.uniform(min_keep_ratio, max_keep_ratio) * num_patches)


def sample_block_mask(num_keep: int, num_patches: int, min_block_size: int, rng: Rng) -> np.ndarray:
    """(N,) bool, True = kept: ``num_patches - num_keep`` tokens masked in contiguous blocks."""
    if not 0 < num_keep < num_patches:
        raise ValueError(f"num_keep must be in 1..{num_patches - 1}, got {num_keep}")
    if num_patches - num_keep < min_block_size:
        raise ValueError(f"{num_patches - num_keep} tokens to mask are fewer than one block of {min_block_size}")
    free = [(0, num_patches)]        # intervals of tokens not yet masked, [start, end)
    num_mask = num_patches - num_keep
    masked = 0
    while masked < num_mask:
        sizes = np.diff(free).flatten()
        start, end = free.pop(rng.choice(len(sizes), p=sizes / sizes.sum()))
        remaining = num_mask - masked
        block = _integer(rng, min_block_size, remaining + 1) if remaining >= min_block_size else remaining
        if end - start <= block:
            masked += end - start    # the whole interval: it joins the blocks around it
            continue
        if remaining >= min_block_size:
            split = _integer(rng, start, end - block + 1)
        else:                        # too short to stand alone: attach to a masked neighbour
            touching = ([start] if start > 0 else []) + ([end - block] if end < num_patches else [])
            split = int(rng.choice(touching))
        free += [(start, split), (split + block, end)]
        masked += block
    keep = np.zeros(num_patches, dtype=bool)
    for start, end in free:
        keep[start:end] = True
    return keep


def sample_masks(batch_size: int, num_patches: int, min_block_size: int, min_keep_ratio: float,
                 max_keep_ratio: float, rng: Rng) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch of masks -> (keep (B, K), masked (B, N - K)) long, each row sorted."""
    num_keep = sample_keep_count(num_patches, min_keep_ratio, max_keep_ratio, rng)
    rows = [sample_block_mask(num_keep, num_patches, min_block_size, rng) for _ in range(batch_size)]
    keep = torch.stack([torch.from_numpy(np.flatnonzero(r)) for r in rows])
    masked = torch.stack([torch.from_numpy(np.flatnonzero(~r)) for r in rows])
    return keep, masked


class WeimannMaskCollator:
    """DataLoader ``collate_fn``: stacks (12, T) samples and draws their masks (I-JEPA style).

    Returns (x (B, 12, T), keep (B, K), masked (B, M)). The generator lives in the collator, so one
    seeded collator gives the same masks for the same sequence of batches.
    """

    def __init__(self, patch_size: int, min_block_size: int, min_keep_ratio: float, max_keep_ratio: float,
                 rng: Rng):
        self.patch_size = patch_size
        self.min_block_size = min_block_size
        self.min_keep_ratio = min_keep_ratio
        self.max_keep_ratio = max_keep_ratio
        self.rng = rng

    @classmethod
    def from_config(cls, cfg: WeimannConfig, rng: Rng) -> "WeimannMaskCollator":
        return cls(cfg.patch_size, cfg.min_block_size, cfg.min_keep_ratio, cfg.max_keep_ratio, rng)

    def masks(self, batch_size: int, num_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Masks for a batch of inputs ``num_samples`` long -> (keep (B, K), masked (B, M))."""
        if num_samples % self.patch_size:
            raise ValueError(f"input length {num_samples} is not a multiple of patch size {self.patch_size}")
        return sample_masks(batch_size, num_samples // self.patch_size, self.min_block_size,
                            self.min_keep_ratio, self.max_keep_ratio, self.rng)

    def __call__(self, batch: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = torch.utils.data.default_collate(list(batch))
        keep, masked = self.masks(x.shape[0], x.shape[-1])
        return x, keep, masked
