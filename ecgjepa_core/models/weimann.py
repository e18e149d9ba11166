"""Weimann & Conrad's ECG-JEPA: ViT encoder, predictor, objective and EMA, exact to their code.

Shapes: B batch, C = 12 leads, T samples, N = T / 25 tokens (one per 50 ms, all leads in it),
K kept and M masked token indices per sample (K + M = N), D encoder width, P predictor width,
R registers.

What differs from Kim's model (``ecgjepa.py``) is deliberate and follows their code: tokens span
all leads, the 1-D sin-cos table is added once after the embedding, learned register tokens are
prepended before the blocks, no layer has a bias (LayerNorms included), masks are per sample
(index tensors), the targets are not normalised and the loss is L1. Module and parameter names
follow theirs, so their state dicts load unchanged.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ecgjepa_core.models.attention import sdpa_attention
from ecgjepa_core.models.ecgjepa import ema_momentum
from ecgjepa_core.models.weimann_config import WeimannConfig


def sincos_1d(dim: int, n_positions: int) -> torch.Tensor:
    """(n_positions, dim) fixed table: sin on even, cos on odd dimensions, base 10000."""
    position = torch.arange(n_positions).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    table = torch.zeros(n_positions, dim)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq)
    return table


def gather_tokens(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x (B, N, D), index (B, K) long -> (B, K, D): each sample's own tokens."""
    return torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class Attention(nn.Module):
    """Multi-head self-attention, fused qkv and output projection, both without bias."""

    def __init__(self, dim: int, num_heads: int, attn_dropout: float, proj_dropout: float):
        super().__init__()
        self.num_heads = num_heads
        self.attn_dropout = attn_dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)
        self.proj_dropout = nn.Dropout(proj_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, S, D) -> (B, S, D)."""
        B, S, D = x.shape
        q, k, v = self.qkv(x).reshape(B, S, 3, self.num_heads, D // self.num_heads).permute(2, 0, 3, 1, 4)
        if self.training and self.attn_dropout:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_dropout)
        else:
            out = sdpa_attention(q, k, v, None)
        return self.proj_dropout(self.proj(out.transpose(1, 2).reshape(B, S, D)))


class Mlp(nn.Module):
    """Linear -> exact GELU -> Linear, no bias, dropout after each."""

    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=False)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, dim, bias=False)
        self.drop2 = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class Block(nn.Module):
    """Pre-norm transformer block with bias-free LayerNorms."""

    def __init__(self, dim: int, num_heads: int, cfg: WeimannConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=cfg.norm_eps, bias=False)
        self.attn = Attention(dim, num_heads, cfg.attn_dropout, cfg.dropout)
        self.norm2 = nn.LayerNorm(dim, eps=cfg.norm_eps, bias=False)
        self.mlp = Mlp(dim, int(dim * cfg.mlp_ratio), cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def _init_weights(module: nn.Module, encoder_depth: int) -> None:
    """Trunc-normal std 0.02; residual projections std 0.02/sqrt(2·encoder depth); LayerNorm weight 1."""
    for name, m in module.named_modules():
        if isinstance(m, (nn.Linear, nn.Conv1d)):
            residual = name.endswith("mlp.fc2") or name.endswith("attn.proj")
            nn.init.trunc_normal_(m.weight, std=0.02 / math.sqrt(2 * encoder_depth) if residual else 0.02)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)


class PatchEmbedding(nn.Module):
    """(B, C, T) -> (B, T / patch, D): one token per patch, all leads inside it."""

    def __init__(self, cfg: WeimannConfig):
        super().__init__()
        self.proj = nn.Conv1d(cfg.num_channels, cfg.dim, kernel_size=cfg.patch_size, stride=cfg.patch_size,
                              bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).transpose(1, 2)


class WeimannEncoder(nn.Module):
    """Conv1d patch embedding + sin-cos positions + registers + blocks + final LayerNorm.

    ``forward(x, keep=None, with_registers=False)``: x (B, 12, T) -> (B, N, D), or (B, K, D) for the
    kept token indices ``keep`` (B, K); ``with_registers`` prepends the R register outputs.
    Inputs shorter than ``cfg.channel_size`` use the first N rows of the position table.
    """

    def __init__(self, cfg: WeimannConfig):
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbedding(cfg)
        self.register_buffer("pos_embed", sincos_1d(cfg.dim, cfg.num_patches), persistent=False)
        if cfg.num_registers:
            self.registers = nn.Parameter(torch.zeros(1, cfg.num_registers, cfg.dim))
            nn.init.trunc_normal_(self.registers, std=0.02)
        self.blocks = nn.ModuleList(Block(cfg.dim, cfg.num_heads, cfg) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps, bias=False)
        _init_weights(self, cfg.depth)

    def _check_input(self, x: torch.Tensor) -> None:
        cfg = self.cfg
        if x.ndim != 3 or x.shape[1] != cfg.num_channels:
            raise ValueError(f"expected input (B, {cfg.num_channels}, T), got {tuple(x.shape)}")
        T = x.shape[2]
        if T % cfg.patch_size or not 0 < T <= cfg.channel_size:
            raise ValueError(f"input length {T} must be a multiple of {cfg.patch_size} "
                             f"and at most {cfg.channel_size} samples")

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None,
                with_registers: bool = False) -> torch.Tensor:
        self._check_input(x)
        h = self.patch_embed(x)
        h = h + self.pos_embed[: h.shape[1]]
        if keep is not None:
            h = gather_tokens(h, keep)
        if self.cfg.num_registers:
            h = torch.cat([self.registers.expand(h.shape[0], -1, -1), h], dim=1)
        for blk in self.blocks:
            h = blk(h)
        h = self.norm(h)
        return h if with_registers else h[:, self.cfg.num_registers:]

    def representation(self, x: torch.Tensor, leads: Sequence[int] | None = None) -> torch.Tensor:
        """(B, 12, T) -> (B, D): mean of the patch tokens (the mean-pool linear probe's feature).

        ``leads`` exists for the shared feature extraction; every token holds all leads, so only
        the full set (None or 0..11) is accepted.
        """
        if leads is not None and list(leads) != list(range(self.cfg.num_channels)):
            raise ValueError(f"Weimann's encoder embeds all {self.cfg.num_channels} leads together; "
                             f"got leads {list(leads)}")
        return self(x).mean(dim=1)


class WeimannPredictor(nn.Module):
    """Linear(D -> P) + positions of the kept tokens, mask tokens at the masked positions, blocks, LayerNorm,
    Linear(P -> D).

    ``forward(z, keep, masked)``: z (B, K, D) context tokens, keep (B, K), masked (B, M) -> (B, M, D).
    """

    def __init__(self, cfg: WeimannConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Linear(cfg.dim, cfg.pred_dim, bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, cfg.pred_dim))
        self.register_buffer("pos_embed", sincos_1d(cfg.pred_dim, cfg.num_patches), persistent=False)
        self.blocks = nn.ModuleList(Block(cfg.pred_dim, cfg.pred_num_heads, cfg) for _ in range(cfg.pred_depth))
        self.norm = nn.LayerNorm(cfg.pred_dim, eps=cfg.norm_eps, bias=False)
        self.proj = nn.Linear(cfg.pred_dim, cfg.dim, bias=False)
        _init_weights(self, cfg.depth)  # the residual std uses the encoder's depth, as in their code
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, z: torch.Tensor, keep: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        B, M = masked.shape
        pos = self.pos_embed.expand(B, -1, -1)
        h = self.embed(z) + gather_tokens(pos, keep)
        queries = self.mask_token.expand(B, M, -1) + gather_tokens(pos, masked)
        h = torch.cat([h, queries], dim=1)
        for blk in self.blocks:
            h = blk(h)
        return self.proj(self.norm(h)[:, -M:])


@dataclass
class WeimannStep:
    """One forward pass; shapes for B samples, N tokens, K kept, M masked."""

    loss: torch.Tensor            # scalar, mean |prediction - target|
    target_tokens: torch.Tensor   # (B, N, D) target encoder on the full input
    context_tokens: torch.Tensor  # (B, K, D) encoder on the kept tokens
    predictor_out: torch.Tensor   # (B, M, D) predictions at the masked positions


class WeimannJEPA(nn.Module):
    """Encoder, EMA target encoder and predictor; ``forward(x, keep, masked)`` returns the L1 loss.

    Their training step moves the target encoder (``update_target``) *before* computing the targets;
    ``loss`` and ``forward`` leave it unchanged, so a loop calls ``update_target(momentum(step, steps))``
    first and then the loss.
    """

    def __init__(self, cfg: WeimannConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = WeimannEncoder(cfg)
        self.predictor = WeimannPredictor(cfg)
        self.target_encoder = copy.deepcopy(self.encoder)
        self.target_encoder.requires_grad_(False)

    def step(self, x: torch.Tensor, keep: torch.Tensor, masked: torch.Tensor) -> WeimannStep:
        """x (B, 12, T), keep (B, K) and masked (B, M) long token indices."""
        if keep.ndim != 2 or masked.ndim != 2 or keep.shape[0] != x.shape[0] != masked.shape[0]:
            raise ValueError(f"keep {tuple(keep.shape)} and masked {tuple(masked.shape)} must be (B, K) and (B, M) "
                             f"for a batch of {x.shape[0]}")
        with torch.no_grad():
            target_tokens = self.target_encoder(x)
            target = gather_tokens(target_tokens, masked)
        context = self.encoder(x, keep)
        predicted = self.predictor(context, keep, masked)
        loss = (predicted - target).abs().mean()
        return WeimannStep(loss, target_tokens, context, predicted)

    def loss(self, x: torch.Tensor, keep: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """Scalar L1 loss; the target encoder is not moved."""
        return self.step(x, keep, masked).loss

    def forward(self, x: torch.Tensor, keep: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        return self.loss(x, keep, masked)

    def momentum(self, step: int, total_steps: int) -> float:
        """EMA momentum at ``step`` of ``total_steps``: linear from 0.998 to 0.9995 (config values)."""
        return ema_momentum(step, total_steps, self.cfg.encoder_momentum, self.cfg.final_encoder_momentum)

    @torch.no_grad()
    def update_target(self, momentum: float) -> None:
        """θ_target ← m·θ_target + (1 − m)·θ_encoder over all encoder parameters."""
        target = list(self.target_encoder.parameters())
        online = [p.detach() for p in self.encoder.parameters()]
        torch._foreach_mul_(target, momentum)
        torch._foreach_add_(target, online, alpha=1.0 - momentum)


def decay_parameter_names(model: nn.Module) -> set[str]:
    """Names of the parameters their optimiser decays: the weights of Linear and Conv1d layers."""
    return {f"{name}.weight" if name else "weight" for name, m in model.named_modules()
            if isinstance(m, (nn.Linear, nn.Conv1d)) and m.weight.requires_grad}
