"""Crop training and crop-averaged evaluation (Weimann & Conrad's ``finetune.py``).

Training sees one random 2.5 s window of each record per draw; evaluation cuts every record into
2.5 s windows every 1.25 s (7 crops of a 10 s record), scores each and averages the logits.
Shapes: B records, C leads, T samples, S crop samples, n crops.
"""

from __future__ import annotations

import torch
from torch import nn

CROP_SECONDS = 2.5
STRIDE_SECONDS = 1.25


def crop_samples(fs: float, seconds: float = CROP_SECONDS) -> int:
    """Samples in a window of ``seconds`` at ``fs`` Hz (their ``int(duration · fs)``)."""
    return int(seconds * fs)


def strided_crops(x: torch.Tensor, size: int, stride: int) -> torch.Tensor:
    """(B, C, T) -> (B, n, C, size): windows starting at 0, stride, … while they fit."""
    if x.ndim != 3 or not 0 < size <= x.shape[-1] or stride <= 0:
        raise ValueError(f"cannot cut windows of {size} every {stride} from input {tuple(x.shape)}")
    return x.unfold(-1, size, stride).transpose(1, 2).contiguous()


def random_crops(x: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """(B, C, T) -> (B, C, size): one window per record, start uniform in 0..T − size, drawn from ``gen``."""
    if x.ndim != 3 or not 0 < size <= x.shape[-1]:
        raise ValueError(f"cannot cut a window of {size} from input {tuple(x.shape)}")
    starts = torch.randint(0, x.shape[-1] - size + 1, (x.shape[0],), generator=gen)
    index = (starts[:, None] + torch.arange(size))[:, None, :].expand(-1, x.shape[1], -1)
    return torch.gather(x, 2, index.to(x.device))


def crop_logits(model: nn.Module, crops: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """``model`` (b, C, S) -> (b, K) applied to crops (B, n, C, S) -> (B, n, K), without gradients."""
    B, n = crops.shape[:2]
    flat = crops.reshape(B * n, *crops.shape[2:])
    with torch.no_grad():
        out = torch.cat([model(flat[i:i + batch_size]) for i in range(0, B * n, batch_size)])
    return out.reshape(B, n, -1)


def crop_averaged_logits(model: nn.Module, crops: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """(B, n, C, S) crops -> (B, K): the mean of each record's crop logits."""
    return crop_logits(model, crops, batch_size).mean(dim=1)
