"""Frozen representations (docs/method_kim.md §8, docs/protocols.md §2): the encoder's mean-pooled tokens, any lead subset."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ecgjepa_core.progress import progress_bar
from ecgjepa_core.models.ecgjepa import Encoder


def as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """float32 CPU tensor view of ``x`` (no copy when already float32)."""
    return torch.as_tensor(np.asarray(x, dtype=np.float32)) if not torch.is_tensor(x) else x.float()


def select_leads(x: torch.Tensor, leads: Sequence[int] | None) -> torch.Tensor:
    """(B, L, T) with all model leads -> (B, L', T) holding ``leads`` in the given order."""
    return x if leads is None else x[:, list(leads)]


@torch.no_grad()
def extract_features(encoder: Encoder, x: np.ndarray | torch.Tensor, leads: Sequence[int] | None = None,
                     batch_size: int = 32, bf16: bool = False, device: str | torch.device = "cpu",
                     progress: bool = True) -> np.ndarray:
    """(N, L, T) records with all model leads -> (N, D) float32 representations.

    ``leads`` (e.g. ``[1]`` for lead II) keeps those rows and their original lead codes (docs/method_kim.md §8).
    The encoder runs in eval mode (its previous mode is restored); ``bf16`` enables CPU/CUDA
    bfloat16 autocast, the output is float32 either way.
    """
    x = as_tensor(x)
    was_training = encoder.training
    encoder.eval()
    device = torch.device(device)
    out = []
    try:
        for start in progress_bar(range(0, len(x), batch_size), desc="features", disable=not progress):
            batch = select_leads(x[start:start + batch_size], leads).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                rep = encoder.representation(batch, leads=leads)
            out.append(rep.float().cpu())
    finally:
        encoder.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, encoder.cfg.embed_dim), np.float32)
