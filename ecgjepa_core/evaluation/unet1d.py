"""A small 1-D U-Net trained from scratch: the usual LUDB segmentation baseline (Moskalenko et al. 2019).

All L input leads enter as channels; the output is per lead and sample, so it is scored exactly like a
token head: x (B, L, T) → logits (B, L, T, 4). Each level: two (Conv1d k9 → BatchNorm → ReLU);
max-pool 2 down, transposed conv 2 up, skip connections by concatenation. T is padded to a multiple
of 2^depth (reflection) and cropped back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ecgjepa_core.data.ludb_segmentation import CLASSES


def _double_conv(c_in: int, c_out: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(inplace=True),
        nn.Conv1d(c_out, c_out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(inplace=True))


class UNet1d(nn.Module):
    """x (B, L, T) → logits (B, L, T, n_classes); widths ``width · 2^level`` for ``depth`` down-sampling levels."""

    def __init__(self, n_leads: int, width: int = 16, depth: int = 4, kernel: int = 9,
                 n_classes: int = len(CLASSES)):
        super().__init__()
        self.n_leads, self.depth, self.n_classes = n_leads, depth, n_classes
        widths = [width * 2 ** k for k in range(depth + 1)]
        self.down = nn.ModuleList([_double_conv(n_leads, widths[0], kernel)]
                                  + [_double_conv(widths[k], widths[k + 1], kernel) for k in range(depth)])
        self.up = nn.ModuleList(nn.ConvTranspose1d(widths[k + 1], widths[k], 2, stride=2) for k in range(depth))
        self.merge = nn.ModuleList(_double_conv(2 * widths[k], widths[k], kernel) for k in range(depth))
        self.out = nn.Conv1d(widths[0], n_leads * n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, L, T = x.shape
        if L != self.n_leads:
            raise ValueError(f"UNet1d built for {self.n_leads} leads, got input {tuple(x.shape)}")
        multiple = 2 ** self.depth
        pad = (-T) % multiple
        h = F.pad(x, (0, pad), mode="reflect") if pad else x
        skips = []
        for k, block in enumerate(self.down):
            h = block(h if k == 0 else F.max_pool1d(h, 2))
            skips.append(h)
        for k in reversed(range(self.depth)):
            h = self.merge[k](torch.cat([skips[k], self.up[k](h)], dim=1))
        logits = self.out(h)[..., :T]
        return logits.view(B, L, self.n_classes, T).permute(0, 1, 3, 2)
