"""Cross-Pattern Attention (CroPA) and the interchangeable ways of computing it.

CroPA (docs/method_kim.md §4): on a lead-major grid of L leads × Q time patches, token (l, n) may attend
to token (l', n') iff l = l' or n = n'. Masking removes whole time columns and reduced-lead
inputs remove whole lead rows, so every token set the encoders see is again a full grid, and the
rule restricted to it is the rule on the smaller grid. The attention layers therefore only need
the grid shape ``(L, Q)``.

Implementations (all exact; tested equal in float32):

* ``reference``: dense (LQ × LQ) scores, disallowed logits set to −inf, explicit softmax: how the
  authors compute.
* ``sdpa``: ``torch.nn.functional.scaled_dot_product_attention`` with the boolean mask.
* ``factorised``: scores only the allowed keys. Per query, the Q same-lead logits and the L
  same-time logits (its own lead excluded, since the token itself is already among the same-lead
  keys) share one softmax: Q + L − 1 keys instead of LQ (57 instead of 400 for 8 × 50).
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn


@lru_cache(maxsize=64)
def cropa_mask(n_leads: int, n_patches: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(L·N, L·N) bool, True where query token (row) may attend to key token (column).

    Cached per grid and device, so a training step never rebuilds or copies it; callers must
    not modify it in place.
    """
    lead = torch.arange(n_leads, device=device).repeat_interleave(n_patches)
    time = torch.arange(n_patches, device=device).repeat(n_leads)
    return (lead[:, None] == lead[None, :]) | (time[:, None] == time[None, :])


def reference_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                        allowed: torch.Tensor | None) -> torch.Tensor:
    """(B, H, S, d) each -> (B, H, S, d). Dense scores, −inf where not ``allowed`` (S, S), softmax."""
    scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(dim=-1) @ v


def sdpa_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   allowed: torch.Tensor | None) -> torch.Tensor:
    """(B, H, S, d) each -> (B, H, S, d) with PyTorch's fused kernel; ``allowed`` (S, S) bool."""
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)


def factorised_cropa_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                               grid: tuple[int, int]) -> torch.Tensor:
    """(B, H, L·Q, d) each, lead-major on an L × Q grid -> (B, H, L·Q, d), CroPA without a dense mask."""
    B, H, S, d = q.shape
    L, Q = grid
    q, k, v = (t.reshape(B, H, L, Q, d) for t in (q, k, v))
    q = q * d ** -0.5
    same_lead = torch.einsum("bhlnd,bhlmd->bhlnm", q, k)      # (B, H, L, Q, Q)
    same_time = torch.einsum("bhlnd,bhknd->bhlnk", q, k)      # (B, H, L, Q, L)
    own_lead = torch.eye(L, dtype=torch.bool, device=q.device)[:, None, :]  # (L, 1, L)
    same_time = same_time.masked_fill(own_lead, float("-inf"))
    probs = torch.cat([same_lead, same_time], dim=-1).softmax(dim=-1)
    p_lead, p_time = probs.split([Q, L], dim=-1)
    out = torch.einsum("bhlnm,bhlmd->bhlnd", p_lead, v) + torch.einsum("bhlnk,bhknd->bhlnd", p_time, v)
    return out.reshape(B, H, S, d)


class Attention(nn.Module):
    """Multi-head self-attention with fused qkv (no bias) and output projection (bias).

    ``forward(x, grid)``: x (B, S, D); ``grid`` = (L, Q) applies CroPA on the lead-major grid
    (S = L·Q), ``None`` gives full attention (predictor, or encoders with CroPA off).
    """

    def __init__(self, dim: int, num_heads: int, impl: str = "factorised"):
        super().__init__()
        self.num_heads = num_heads
        self.impl = impl
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, grid: tuple[int, int] | None = None) -> torch.Tensor:
        B, S, D = x.shape
        q, k, v = self.qkv(x).reshape(B, S, 3, self.num_heads, D // self.num_heads).permute(2, 0, 3, 1, 4)
        if grid is not None and self.impl == "factorised":
            out = factorised_cropa_attention(q, k, v, grid)
        else:
            allowed = None if grid is None else cropa_mask(*grid, x.device)
            attend = reference_attention if self.impl == "reference" else sdpa_attention
            out = attend(q, k, v, allowed)
        return self.proj(out.transpose(1, 2).reshape(B, S, D))
