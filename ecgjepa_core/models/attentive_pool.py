"""Attentive pooling head: one learned query cross-attends over a token sequence, then a projection.

Weimann & Conrad's "linear" evaluation (their ``AttentivePooler`` without the complete block): no
bias anywhere, as many heads as the encoder, the output projection maps straight to the classes.
It takes any (B, S, D) tokens, so it serves every encoder that yields tokens. Parameter names follow
theirs (``query_token``, ``cross_attention_block.{q,kv,proj}``) so their checkpoints load unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from ecgjepa_core.models.attention import sdpa_attention


class CrossAttention(nn.Module):
    """Queries (B, n, D) attend over tokens (B, S, D) -> (B, n, out_dim); no bias."""

    def __init__(self, dim: int, num_heads: int, out_dim: int):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"width {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * dim, bias=False)
        self.proj = nn.Linear(dim, out_dim, bias=False)

    def forward(self, queries: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        B, n, D = queries.shape
        S, H = tokens.shape[1], self.num_heads
        q = self.q(queries).reshape(B, n, H, D // H).transpose(1, 2)
        k, v = self.kv(tokens).reshape(B, S, 2, H, D // H).permute(2, 0, 3, 1, 4)
        out = sdpa_attention(q, k, v, None)
        return self.proj(out.transpose(1, 2).reshape(B, n, D))


class AttentivePooler(nn.Module):
    """(B, S, D) tokens -> (B, out_dim): one learned query, cross-attention, projection."""

    def __init__(self, dim: int, num_heads: int, out_dim: int):
        super().__init__()
        self.query_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.cross_attention_block = CrossAttention(dim, num_heads, out_dim)
        nn.init.trunc_normal_(self.query_token, std=0.02)
        for m in self.cross_attention_block.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 3 or tokens.shape[-1] != self.query_token.shape[-1]:
            raise ValueError(f"expected tokens (B, S, {self.query_token.shape[-1]}), got {tuple(tokens.shape)}")
        query = self.query_token.expand(tokens.shape[0], -1, -1)
        return self.cross_attention_block(query, tokens).squeeze(1)
