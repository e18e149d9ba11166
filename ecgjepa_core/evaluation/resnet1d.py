"""A supervised reference that needs no self-supervision: a small 1-D ResNet trained from scratch.

In the style of the PTB-XL benchmark's ``resnet1d``/``xresnet1d`` (Strodthoff et al. 2021): a
convolutional stem, four stages of residual basic blocks (32, 64, 96, 128 channels, stride 2 from
the second stage on), a head on the concatenated average- and max-pooled features. Like the
benchmark it reads 100 Hz signals: records at another rate are resampled with an anti-aliasing
polyphase filter, which keeps the band below 50 Hz (the study's inputs stop at 40 Hz). Trained
with AdamW under a one-cycle schedule on random crops (9 s of the 10 s by default) and evaluated
on the full records, which global pooling allows. Results are :class:`ClassificationResult` like
the linear probe's and fine-tuning's, so tables treat the three alike.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
import scipy.signal
import torch
from torch import nn

from ecgjepa_core.progress import progress_bar
from ecgjepa_core.evaluation.low_shot import LowShotResult, low_shot_draws, over_draws
from ecgjepa_core.evaluation.scoring import (ClassificationResult, EpochEval, Task, build_result, check_task,
                                          evaluate_scores, loss_fn, n_outputs, scores_from_logits)


class BasicBlock1d(nn.Module):
    """Two conv-BN layers with a residual connection; (B, C_in, T) -> (B, C_out, ceil(T / stride))."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel: int):
        super().__init__()
        pad = kernel // 2
        self.body = nn.Sequential(
            nn.Conv1d(c_in, c_out, kernel, stride, pad, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(inplace=True),
            nn.Conv1d(c_out, c_out, kernel, 1, pad, bias=False), nn.BatchNorm1d(c_out))
        # The last BN of a block starts at zero so that every block starts as the identity (xresnet).
        nn.init.zeros_(self.body[-1].weight)
        self.skip = (nn.Identity() if stride == 1 and c_in == c_out else
                     nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm1d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class ResNet1d(nn.Module):
    """(B, L, T) signals -> (B, C) logits, for any T long enough for the strides (T ≥ 64)."""

    def __init__(self, n_leads: int, n_out: int, widths: tuple[int, ...] = (32, 64, 96, 128),
                 blocks_per_stage: int = 1, kernel: int = 5, dropout: float = 0.25):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(n_leads, widths[0], 7, 2, 3, bias=False), nn.BatchNorm1d(widths[0]),
                                  nn.ReLU(inplace=True), nn.MaxPool1d(3, 2, 1))
        layers, c_in = [], widths[0]
        for i, c_out in enumerate(widths):
            for j in range(blocks_per_stage):
                layers.append(BasicBlock1d(c_in, c_out, 2 if i > 0 and j == 0 else 1, kernel))
                c_in = c_out
        self.stages = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm1d(2 * c_in), nn.Dropout(dropout), nn.Linear(2 * c_in, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(x))
        return self.head(torch.cat([h.mean(-1), h.amax(-1)], dim=1))


@dataclass(frozen=True)
class ResNetRecipe:
    """Training of :class:`ResNet1d`: AdamW, one-cycle lr (cosine warm-up to ``lr`` over ``pct_start``
    of the steps, cosine annealing after), random crops of ``crop_seconds`` of each record per batch.

    ``min_steps`` raises the number of epochs for small training sets (low-shot) so that the
    network sees at least that many optimiser steps.
    """

    lr: float = 1e-2
    weight_decay: float = 1e-2
    batch_size: int = 64
    epochs: int = 5
    min_steps: int = 0
    pct_start: float = 0.3
    crop_seconds: float = 9.0
    record_seconds: float = 10.0
    sample_hz: int = 100
    blocks_per_stage: int = 1

    def epochs_for(self, n_train: int) -> int:
        iters = math.ceil(n_train / self.batch_size)
        return max(self.epochs, math.ceil(self.min_steps / iters))


def resample(x: np.ndarray, fs: float, target_hz: int) -> np.ndarray:
    """(N, L, T) at ``fs`` Hz -> (N, L, T') float32 at ``target_hz`` (polyphase, anti-aliased)."""
    ratio = Fraction(target_hz / fs).limit_denominator(1000)
    if ratio == 1:
        return x
    return scipy.signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32)


def random_crops(x: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """(B, L, T) -> (B, L, length): one uniformly placed window per record."""
    starts = rng.integers(0, x.shape[-1] - length + 1, size=len(x))
    return np.stack([r[:, s:s + length] for r, s in zip(x, starts)])


@torch.no_grad()
def predict_logits(model: nn.Module, x: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """(N, L, T) -> (N, C) float64 logits in eval mode on the full records."""
    model.eval()
    return torch.cat([model(torch.as_tensor(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
                     ).numpy().astype(np.float64)


def fit(model: ResNet1d, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray | None,
        y_val: np.ndarray | None, x_test: np.ndarray, y_test: np.ndarray, task: Task, recipe: ResNetRecipe,
        crop: int, seed: int, every_epoch: bool = True) -> list[EpochEval]:
    """Train ``model`` on random ``crop``-sample windows of (N, L, T) records; evaluate test (and validation, when
    given) on the full records after every epoch, or after the last one only. Batch order and crops are drawn
    from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    n, bs = len(x_train), min(recipe.batch_size, len(x_train))
    iters, epochs = math.ceil(n / bs), recipe.epochs_for(n)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=iters * epochs,
                                                pct_start=recipe.pct_start)
    loss = loss_fn(task)
    targets = torch.as_tensor(y_train)
    history: list[EpochEval] = []
    for epoch in progress_bar(range(1, epochs + 1), desc="1-D ResNet", unit="epoch"):
        model.train()
        order = torch.randperm(n, generator=gen).numpy()
        total = 0.0
        for i in range(iters):
            idx = order[i * bs:(i + 1) * bs]
            if len(idx) < 2:  # BatchNorm cannot train on a single record
                continue
            batch_loss = loss(model(torch.as_tensor(random_crops(x_train[idx], crop, rng))), targets[idx])
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            opt.step()
            sched.step()
            total += batch_loss.item() * len(idx)
        if not every_epoch and epoch < epochs:
            continue
        scores = scores_from_logits(task, predict_logits(model, x_test))
        val = ({} if x_val is None else
               evaluate_scores(task, y_val, scores_from_logits(task, predict_logits(model, x_val))))
        history.append(EpochEval(epoch, total / n, evaluate_scores(task, y_test, scores), scores, val))
    return history


def train_resnet1d(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray | None, y_val: np.ndarray | None,
                   x_test: np.ndarray, y_test: np.ndarray, task: Task, recipe: ResNetRecipe = ResNetRecipe(),
                   seed: int = 0, n_classes: int | None = None, n_boot: int = 1000, split: str = "",
                   select: str | None = None, curve: bool = True) -> ClassificationResult:
    """Train :class:`ResNet1d` from scratch on (N, L, T) signals; report the test metrics of the epoch with the best
    validation headline metric (``select='val'``, the default with a validation set) or of the last epoch.

    Targets: (N, C) multi-hot (``multilabel``) or (N,) class indices (``multiclass``). Randomness (weights,
    batch order, crop positions) comes from ``seed`` only. ``result.model`` is the network after the last epoch.
    ``curve=False`` (last-epoch selection only) evaluates after the last epoch alone, which saves most of the
    time of long low-shot runs.
    """
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    has_val = x_val is not None and y_val is not None and len(y_val) > 0  # a split without validation: empty
    select = select or ("val" if has_val else "last")
    if select not in ("val", "last"):
        raise ValueError(f"select must be 'val' or 'last', got {select!r}")
    if select == "val" and not has_val:
        raise ValueError("select='val' needs x_val and y_val")
    if select == "val" and not curve:
        raise ValueError("select='val' needs the per-epoch curve (curve=True)")
    for y in (y_train, y_test, *([np.asarray(y_val)] if has_val else [])):
        check_task(task, y)
    y_val = np.asarray(y_val) if has_val else None
    fs = np.shape(x_train)[-1] / recipe.record_seconds
    x_train, x_test, x_val = (None if x is None else resample(np.asarray(x, dtype=np.float32), fs, recipe.sample_hz)
                              for x in (x_train, x_test, x_val if has_val else None))
    crop = round(recipe.crop_seconds * recipe.sample_hz)
    if not 64 <= crop <= x_train.shape[-1]:
        raise ValueError(f"crop of {recipe.crop_seconds} s = {crop} samples does not fit records of "
                         f"{x_train.shape[-1]} samples at {recipe.sample_hz} Hz")
    n_out = n_classes or n_outputs(task, y_train, y_test, *([y_val] if has_val else []))
    with torch.random.fork_rng(devices=[]):
        # Weights and dropout masks draw from the global RNG: seeded here, the caller's state restored after.
        torch.manual_seed(seed)
        model = ResNet1d(x_train.shape[1], n_out, blocks_per_stage=recipe.blocks_per_stage)
        history = fit(model, x_train, y_train, x_val, y_val, x_test, y_test, task, recipe, crop, seed, curve)
    n, bs, epochs = len(x_train), min(recipe.batch_size, len(x_train)), recipe.epochs_for(len(x_train))
    protocol = {
        "protocol": f"1-D ResNet trained from scratch (4 stages × {recipe.blocks_per_stage} basic blocks, "
                    "32/64/96/128 channels, kernel 5, concat avg+max pooling head)",
        "input": f"{recipe.sample_hz} Hz" + (f" (resampled from {fs:g} Hz)" if fs != recipe.sample_hz else ""),
        "task": task, "optimiser": f"AdamW lr {recipe.lr:g}, wd {recipe.weight_decay:g}",
        "schedule": f"one-cycle (cosine warm-up over {recipe.pct_start:.0%} of the steps, cosine annealing)",
        "batch": bs, "epochs": epochs, "train_crop": f"random {recipe.crop_seconds:g} s window per record and batch",
        "evaluation": f"full {recipe.record_seconds:g} s records", "leads": x_train.shape[1], "precision": "fp32",
        "seed": seed, "n_train": n, "n_test": len(y_test), "n_val": len(y_val) if has_val else 0, "split": split,
        "recipe": asdict(recipe),
    }
    result = build_result(task, history, y_test, select, protocol, n_boot, seed)
    result.model = model.eval()
    return result


def low_shot_resnet1d(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, task: Task,
                      fraction: float, recipe: ResNetRecipe = ResNetRecipe(min_steps=100), n_draws: int = 3,
                      seed: int = 0, n_boot: int = 1000, split: str = "", curve: bool = False) -> LowShotResult:
    """:func:`train_resnet1d` on the same ``n_draws`` training subsets as ``low_shot_probe`` (same draw rule and
    seed), the last epoch reported (no validation labels beyond the subset; ``curve`` as in :func:`train_resnet1d`);
    mean ± population sd over draws."""
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    n_classes = n_outputs(task, y_train, y_test)
    draws = low_shot_draws(len(y_train), fraction, n_draws, seed)
    trials = [train_resnet1d(np.asarray(x_train)[idx], y_train[idx], None, None, x_test, y_test, task, recipe,
                             seed=seed + k, n_classes=n_classes, n_boot=n_boot, split=split, curve=curve)
              for k, idx in enumerate(draws)]
    return over_draws(trials, draws, task, y_train, n_classes, fraction, seed, "low-shot 1-D ResNet from scratch",
                      "train_seeds")
