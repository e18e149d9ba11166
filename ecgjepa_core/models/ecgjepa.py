"""ECG-JEPA: encoder (student and teacher), per-lead predictor, objective and EMA (docs/method_kim.md §2–§8).

Shapes: B batch, L leads, N time patches (50), t patch length (50), Q visible and M masked time
patches (Q + M = N), D encoder width, d predictor width. Tokens are always lead-major:
token index = lead · (patches per lead) + time patch.

Behaviours of the authors' code that their checkpoints depend on are reproduced: the positional
table is added to the token stream before *every* block (so it accumulates in the residual);
the predictor has its own table (time half + constant half) and no lead identity; CroPA is used in
the encoders only; one time mask per batch; the predictor appends mask tokens after each lead's
visible tokens.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ecgjepa_core.models.attention import Attention
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.masking import sample_time_mask
from ecgjepa_core.models.positional import sincos_2d


class DropPath(nn.Module):
    """Per-sample stochastic depth: drops the residual branch of a whole sample, rescales the rest."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        return x * x.new_empty(shape).bernoulli_(keep) / keep


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block; ``grid`` = (L, Q) applies CroPA, ``None`` full attention."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, drop_path: float, attention: str):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads, attention)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, grid: tuple[int, int] | None) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), grid))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def _make_blocks(dim: int, depth: int, num_heads: int, cfg: ModelConfig) -> nn.ModuleList:
    rates = torch.linspace(0, cfg.drop_path_rate, depth).tolist()
    return nn.ModuleList(Block(dim, num_heads, cfg.mlp_ratio, r, cfg.attention) for r in rates)


def _init_weights(module: nn.Module, blocks: nn.ModuleList, std: float) -> None:
    """Trunc-normal Linear weights, zero biases, LayerNorm (1, 0); then residual outputs ÷ sqrt(2·layer)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=std, a=-2.0, b=2.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    with torch.no_grad():
        for layer_id, blk in enumerate(blocks, start=1):
            blk.attn.proj.weight.div_(math.sqrt(2.0 * layer_id))
            blk.mlp.fc2.weight.div_(math.sqrt(2.0 * layer_id))


class Encoder(nn.Module):
    """Patch embedding + transformer with CroPA + final LayerNorm; one class for student and teacher."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.patch_embed = nn.Linear(cfg.patch_size, cfg.embed_dim)
        self.register_buffer("pos_embed", sincos_2d(cfg.embed_dim, cfg.n_leads, cfg.n_patches))
        self.blocks = _make_blocks(cfg.embed_dim, cfg.depth, cfg.num_heads, cfg)
        self.norm = nn.LayerNorm(cfg.embed_dim)
        _init_weights(self, self.blocks, cfg.init_std)

    def _check_input(self, x: torch.Tensor, leads: Sequence[int]) -> None:
        cfg = self.cfg
        if x.ndim != 3 or x.shape[1] != len(leads) or x.shape[2] != cfg.n_samples:
            raise ValueError(
                f"expected input (B, {len(leads)}, {cfg.n_samples}) for leads {list(leads)}, got {tuple(x.shape)}")
        if len(set(leads)) != len(leads) or not all(0 <= l < cfg.n_leads for l in leads):
            raise ValueError(f"leads must be distinct positions in 0..{cfg.n_leads - 1}, got {list(leads)}")

    def forward(self, x: torch.Tensor, leads: Sequence[int] | None = None,
                visible: torch.Tensor | None = None) -> torch.Tensor:
        """(B, L', T) -> (B, L'·Q, D) tokens after the final LayerNorm.

        leads: the model lead positions the L' input rows hold (default all); they keep their
        original lead codes. visible: (N,) bool, the time patches to encode (default all).
        """
        cfg = self.cfg
        leads = list(range(cfg.n_leads)) if leads is None else list(leads)
        self._check_input(x, leads)
        B = x.shape[0]
        patches = x.reshape(B, len(leads), cfg.n_patches, cfg.patch_size)
        pos = self.pos_embed.view(cfg.n_leads, cfg.n_patches, -1)[leads]
        if visible is not None:
            patches, pos = patches[:, :, visible], pos[:, visible]
        n_time = patches.shape[2]
        h = self.patch_embed(patches.reshape(B, len(leads) * n_time, cfg.patch_size))
        pos = pos.reshape(len(leads) * n_time, -1)
        grid = (len(leads), n_time) if cfg.cropa else None
        for blk in self.blocks:
            h = blk(h + pos, grid)
        return self.norm(h)

    def representation(self, x: torch.Tensor, leads: Sequence[int] | None = None) -> torch.Tensor:
        """(B, L', T) -> (B, D): mean of all output tokens (docs/method_kim.md §8)."""
        return self(x, leads).mean(dim=1)


class Predictor(nn.Module):
    """Narrow transformer run on each lead separately; regresses teacher tokens at masked patches."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.pred_embed_dim
        self.embed = nn.Linear(cfg.embed_dim, d)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, d))
        # Built on a 1 × N grid: time code in the first half, the code of lead 0 (zeros, ones) in the second.
        self.register_buffer("pos_embed", sincos_2d(d, 1, cfg.n_patches))
        self.blocks = _make_blocks(d, cfg.pred_depth, cfg.pred_num_heads, cfg)
        self.norm = nn.LayerNorm(d)
        self.proj = nn.Linear(d, cfg.embed_dim)
        nn.init.trunc_normal_(self.mask_token, std=cfg.init_std, a=-2.0, b=2.0)
        _init_weights(self, self.blocks, cfg.init_std)

    def forward(self, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """z (B, L·Q, D) student tokens, mask (N,) bool -> (B, L·N, D).

        For each lead: its Q visible positions in time order, then its M masked positions in
        time order; the predictions are the last M tokens of every lead.
        """
        B, S, _ = z.shape
        visible_idx = (~mask).nonzero(as_tuple=True)[0]
        masked_idx = mask.nonzero(as_tuple=True)[0]
        Q, M = len(visible_idx), len(masked_idx)
        if S % Q:
            raise ValueError(f"{S} student tokens are not a whole number of leads of {Q} visible patches")
        L = S // Q
        h = self.embed(z).reshape(B * L, Q, -1)
        h = torch.cat([h, self.mask_token.expand(B * L, M, -1)], dim=1)
        pos = self.pos_embed[torch.cat([visible_idx, masked_idx])]
        for blk in self.blocks:
            h = blk(h + pos, None)
        return self.proj(self.norm(h)).reshape(B, L * self.cfg.n_patches, -1)


def position_free(target: torch.Tensor, kind: str) -> torch.Tensor:
    """(B, S, D) layer-normed teacher tokens as ``ModelConfig.targets`` asks: unchanged (``paper``), minus the batch's
    mean at each token position (``centred``), or also divided by the batch's sd there (``standardised``). Under DDP
    each rank uses its own share of the batch."""
    if kind == "paper":
        return target
    target = target - target.mean(dim=0, keepdim=True)
    if kind == "standardised":
        target = target / (target.std(dim=0, keepdim=True, correction=0) + 1e-6)
    return target


@dataclass
class JEPAStep:
    """Everything one forward pass computes; shapes for B samples, L leads, M masked patches."""

    loss: torch.Tensor              # scalar
    mask: torch.Tensor              # (N,) bool, True = masked
    teacher_tokens: torch.Tensor    # (B, L·N, D), teacher output before the target normalisation
    context_tokens: torch.Tensor    # (B, L·Q, D), student output
    predictor_out: torch.Tensor     # (B, L·N, D)


class ECGJEPA(nn.Module):
    """Student, EMA teacher and predictor; ``forward(x, mask)`` returns the Smooth-L1 loss."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.student = Encoder(cfg)
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.predictor = Predictor(cfg)

    def train(self, mode: bool = True) -> "ECGJEPA":
        super().train(mode)
        if not self.cfg.teacher_drop_path:
            self.teacher.eval()
        return self

    def sample_mask(self, gen: torch.Generator | None = None) -> torch.Tensor:
        """(N,) bool time mask for one batch, drawn as ``cfg.mask`` describes."""
        return sample_time_mask(self.cfg.mask, self.cfg.n_patches, gen)

    def step(self, x: torch.Tensor, mask: torch.Tensor) -> JEPAStep:
        """x (B, L, T) with all model leads; mask (N,) bool shared by the batch."""
        cfg = self.cfg
        mask = mask.to(device=x.device, dtype=torch.bool)
        if mask.shape != (cfg.n_patches,) or mask.all() or not mask.any():
            raise ValueError(f"mask must be a ({cfg.n_patches},) bool vector with masked and visible patches")
        B, L = x.shape[:2]
        with torch.no_grad():
            teacher_tokens = self.teacher(x)
            target = F.layer_norm(teacher_tokens, (teacher_tokens.shape[-1],))
            target = position_free(target, cfg.targets)
            target = target.view(B, L, cfg.n_patches, -1)[:, :, mask].reshape(B, -1, target.shape[-1])
        context = self.student(x, visible=~mask)
        predicted = self.predictor(context, mask)
        n_masked = int(mask.sum())
        pred = predicted.view(B, L, cfg.n_patches, -1)[:, :, -n_masked:].reshape(B, -1, predicted.shape[-1])
        loss = F.smooth_l1_loss(pred, target, beta=1.0)
        return JEPAStep(loss, mask, teacher_tokens, context, predicted)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                gen: torch.Generator | None = None) -> torch.Tensor:
        """x (B, L, T) -> scalar loss. Without ``mask`` one is sampled (from ``gen`` if given)."""
        if mask is None:
            mask = self.sample_mask(gen)
        return self.step(x, mask).loss

    @torch.no_grad()
    def update_teacher(self, momentum: float) -> None:
        """θ_teacher ← m·θ_teacher + (1 − m)·θ_student, over all encoder parameters."""
        teacher = list(self.teacher.parameters())
        student = [p.detach() for p in self.student.parameters()]
        torch._foreach_mul_(teacher, momentum)
        torch._foreach_add_(teacher, student, alpha=1.0 - momentum)


def ema_momentum(step: int, total_steps: int, start: float = 0.996, end: float = 1.0) -> float:
    """Linear EMA momentum schedule over the whole run: start at step 0, → end at ``total_steps``."""
    return start + step * (end - start) / total_steps
