"""Per-iteration learning-rate and EMA-momentum schedules of pretraining (docs/method_kim.md §7).

Both are pure functions of the global iteration t = epoch · I + batch_index (I iterations per
epoch), so a resumed run recomputes them from t alone. The learning rate reproduces timm's
``CosineLRScheduler`` (one cycle, ``warmup_prefix=False``, ``t_in_epochs=False``) as the
authors call it: at the *start* of iteration t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ecgjepa_core.models.ecgjepa import ema_momentum


def warmup_cosine_lr(t: int, peak: float, warmup_steps: int, total_steps: int,
                     lr_min: float = 1e-6, warmup_start: float = 1e-6) -> float:
    """Learning rate at global iteration ``t``.

    t < W: linear from ``warmup_start`` (t = 0) towards ``peak``.
    W ≤ t < T: lr_min + ½(peak − lr_min)(1 + cos(π t / T)). The cosine phase counts from t = 0,
    not from the end of warm-up (timm without ``warmup_prefix``), so the rate at t = W is
    already below ``peak`` (≈0.994·peak for 5 of 100 epochs).
    t ≥ T: lr_min (timm past its single cycle).
    """
    if t < 0:
        raise ValueError(f"iteration must be >= 0, got {t}")
    if t < warmup_steps:
        return warmup_start + t * (peak - warmup_start) / warmup_steps
    if t >= total_steps:
        return lr_min
    return lr_min + 0.5 * (peak - lr_min) * (1.0 + math.cos(math.pi * t / total_steps))


@dataclass(frozen=True)
class PretrainSchedule:
    """The lr and EMA momentum of every iteration of a run of ``epochs`` × ``steps_per_epoch``."""

    steps_per_epoch: int
    epochs: int
    peak_lr: float
    warmup_epochs: float = 5  # fractions allowed: the warm-up is rounded to whole iterations
    lr_min: float = 1e-6
    ema_start: float = 0.996
    ema_end: float = 1.0

    def __post_init__(self) -> None:
        if self.steps_per_epoch < 1 or self.epochs < 1:
            raise ValueError(f"need >= 1 step and epoch, got {self.steps_per_epoch} steps × {self.epochs} epochs")
        if not 0 <= self.warmup_epochs <= self.epochs:
            raise ValueError(f"warmup_epochs {self.warmup_epochs} must lie in 0..epochs ({self.epochs})")

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def warmup_steps(self) -> int:
        return round(self.warmup_epochs * self.steps_per_epoch)

    def lr(self, t: int) -> float:
        """Learning rate set at the start of iteration ``t`` (same for both parameter groups)."""
        return warmup_cosine_lr(t, self.peak_lr, self.warmup_steps, self.total_steps,
                                lr_min=self.lr_min, warmup_start=self.lr_min)

    def momentum(self, t: int) -> float:
        """EMA momentum applied after the optimiser step of iteration ``t`` (linear 0.996 → 1.0)."""
        return ema_momentum(t, self.total_steps, self.ema_start, self.ema_end)
