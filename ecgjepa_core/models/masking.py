"""Time masks for ECG-JEPA (docs/method_kim.md §5).

A mask is a bool vector over the N time patches (True = masked), shared by every lead and by
every sample of a batch. Sampling follows the authors' arithmetic exactly (floor(N·r) patches;
block starts from a ``randperm``), but draws from an explicit ``torch.Generator`` so that runs are
reproducible without touching the global RNG.
"""

from __future__ import annotations

import torch

from ecgjepa_core.models.config import MaskConfig


def _ratio(scale: tuple[float, float], gen: torch.Generator | None) -> float:
    lo, hi = scale
    return lo + (hi - lo) * torch.rand(1, generator=gen).item()


def random_time_mask(n_patches: int, scale: tuple[float, float],
                     gen: torch.Generator | None = None) -> torch.Tensor:
    """(N,) bool with floor(N·r) uniformly chosen patches masked, r ~ U(scale)."""
    mask = torch.zeros(n_patches, dtype=torch.bool)
    n_masked = int(n_patches * _ratio(scale, gen))
    mask[torch.randperm(n_patches, generator=gen)[:n_masked]] = True
    return mask


def multiblock_time_mask(n_patches: int, scale: tuple[float, float], n_blocks: int = 4,
                         gen: torch.Generator | None = None,
                         start_excludes_last: bool = True) -> torch.Tensor:
    """(N,) bool: union of ``n_blocks`` contiguous blocks of floor(N·r) patches, r ~ U(scale).

    The authors draw each start from {0 … N−m−1}, so patch N−1 is never masked; with
    ``start_excludes_last=False`` starts range over {0 … N−m}.
    """
    mask = torch.zeros(n_patches, dtype=torch.bool)
    for _ in range(n_blocks):
        length = int(n_patches * _ratio(scale, gen))
        n_starts = n_patches - length + (0 if start_excludes_last else 1)
        start = int(torch.randperm(n_starts, generator=gen)[0])
        mask[start:start + length] = True
    return mask


def sample_time_mask(cfg: MaskConfig, n_patches: int, gen: torch.Generator | None = None) -> torch.Tensor:
    """(N,) bool mask of the kind ``cfg`` describes."""
    if cfg.kind == "random":
        return random_time_mask(n_patches, cfg.scale, gen)
    return multiblock_time_mask(n_patches, cfg.scale, cfg.n_blocks, gen, cfg.block_start_excludes_last)
