"""Fixed sin-cos positional tables (docs/method_kim.md §3), computed in float64 like the authors."""

from __future__ import annotations

import numpy as np
import torch


def sincos_1d(dim: int, positions: np.ndarray) -> np.ndarray:
    """(P,) positions -> (P, dim): dim/2 sines then dim/2 cosines, ω_k = 10000^(−k/(dim/2))."""
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    angles = np.outer(positions.astype(np.float64), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def sincos_2d(dim: int, n_leads: int, n_patches: int) -> torch.Tensor:
    """(n_leads·n_patches, dim) lead-major table: first half codes the time patch, second the lead."""
    lead, time = np.meshgrid(np.arange(n_leads), np.arange(n_patches), indexing="ij")
    table = np.concatenate(
        [sincos_1d(dim // 2, time.ravel()), sincos_1d(dim // 2, lead.ravel())], axis=1
    )
    return torch.from_numpy(table).float()
