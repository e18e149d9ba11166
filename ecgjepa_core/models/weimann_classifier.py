"""Weimann & Conrad's downstream classifiers, as their ``finetune.py`` builds them.

Two heads on a ``WeimannEncoder``: ``attentive`` (their frozen "linear" evaluation: an attentive pooler
over register + patch tokens straight to the classes) and ``register`` (fine-tuning: the first register
token's output into a bias-free Linear; their fine-tuning dropout of 0.05 sits inside the encoder's
blocks, set through ``WeimannConfig.dropout``). ``mean`` (mean of the patch tokens into a Linear) is
their choice when no register is used. ``forward(x)``: x (B, 12, T) crops -> (B, classes) logits.
"""

from __future__ import annotations

import torch
from torch import nn

from ecgjepa_core.models.attentive_pool import AttentivePooler
from ecgjepa_core.models.weimann import WeimannEncoder
from ecgjepa_core.models.weimann_config import WeimannConfig

HEADS = ("attentive", "register", "mean")


class WeimannClassifier(nn.Module):
    def __init__(self, cfg: WeimannConfig, num_classes: int, head: str = "attentive", use_registers: bool = True,
                 frozen: bool = True):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        if use_registers and not cfg.num_registers:
            raise ValueError("use_registers needs an encoder with at least one register")
        if head == "register" and not use_registers:
            raise ValueError("the register head needs use_registers=True")
        self.head, self.use_registers, self.frozen = head, use_registers, frozen
        self.num_classes = num_classes
        self.encoder = WeimannEncoder(cfg)
        if head == "attentive":
            self.attn_pool = AttentivePooler(cfg.dim, cfg.num_heads, num_classes)
        else:
            self.fc = nn.Linear(cfg.dim, num_classes, bias=False)
            nn.init.trunc_normal_(self.fc.weight, std=0.02)
        if frozen:
            self.encoder.requires_grad_(False)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 12, T) -> (B, R + N, D) with the registers first, or (B, N, D) without them."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            return self.encoder(x, with_registers=self.use_registers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.tokens(x)
        if self.head == "attentive":
            return self.attn_pool(h)
        return self.fc(h[:, 0] if self.head == "register" else h.mean(dim=1))
