"""Learning-rate schedules and the hyper-parameter recipes of the downstream protocols (docs/protocols.md).

Every schedule maps the 0-based index of an optimiser step to the learning rate that step uses,
given the iterations per epoch I and the number of epochs E.

* :class:`TimmCosine` — the authors' linear probe: timm ``CosineLRScheduler`` (warm-up from
  ``warmup_lr`` over ``warmup_iters`` iterations, cosine phase measured from t = 0, floor
  ``lr_min``), stepped *after* each optimiser step with ``scheduler.step(t)``. The optimiser
  therefore starts at ``warmup_lr`` and step k ≥ 1 runs at the schedule value of t = k − 1.
* :class:`MAECosine` — MAE's ``adjust_learning_rate``: called before each step with the
  fractional epoch e = k / I; linear warm-up from 0 over ``warmup_epochs``, then cosine to
  ``lr_min`` at epoch E.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Literal

from ecgjepa_core.training.schedules import warmup_cosine_lr


@dataclass(frozen=True)
class TimmCosine:
    base_lr: float
    warmup_lr: float
    warmup_iters: int
    lr_min: float

    def value(self, t: int, total_iters: int) -> float:
        """timm's ``_get_lr(t)`` for one cycle of ``total_iters`` iterations (the pretraining formula)."""
        return warmup_cosine_lr(t, self.base_lr, self.warmup_iters, total_iters, self.lr_min, self.warmup_lr)

    def lr_at(self, step: int, iters_per_epoch: int, epochs: int) -> float:
        return self.value(max(step - 1, 0), iters_per_epoch * epochs)


@dataclass(frozen=True)
class MAECosine:
    base_lr: float
    warmup_epochs: float
    lr_min: float = 0.0

    def lr_at(self, step: int, iters_per_epoch: int, epochs: int) -> float:
        e = step / iters_per_epoch
        if e < self.warmup_epochs:
            return self.base_lr * e / self.warmup_epochs
        phase = (e - self.warmup_epochs) / (epochs - self.warmup_epochs)
        return self.lr_min + (self.base_lr - self.lr_min) * 0.5 * (1 + math.cos(math.pi * phase))


Schedule = TimmCosine | MAECosine


@dataclass(frozen=True)
class ProbeRecipe:
    """Linear head on frozen features: AdamW (default betas) with a per-iteration schedule."""

    name: str
    lr: float
    weight_decay: float
    batch_size: int
    epochs: int
    schedule: Schedule
    # z-score each feature with the training records' mean and sd before the head (a BatchNorm
    # without affine, fitted once); the authors' code feeds the raw features.
    standardize: bool = False

    def to_dict(self) -> dict:
        return {**asdict(self), "schedule": {"kind": type(self.schedule).__name__, **asdict(self.schedule)}}


# docs/protocols.md §2, the authors' code column (it produced the published numbers); weight decay is AdamW's default 0.01.
PROBE_CODE = ProbeRecipe("code", lr=0.01, weight_decay=0.01, batch_size=16, epochs=10,
                         schedule=TimmCosine(base_lr=0.01, warmup_lr=1e-3, warmup_iters=10, lr_min=1e-3))
# Paper table (P-B Table 12): "cosine, warm-up 3 epochs". The start and floor are not given; we use
# the MAE shape (from 0, to 0) that the same paper's fine-tuning row denotes in the authors' code.
PROBE_PAPER = ProbeRecipe("paper", lr=5e-4, weight_decay=0.05, batch_size=32, epochs=10,
                          schedule=MAECosine(base_lr=5e-4, warmup_epochs=3))


@dataclass(frozen=True)
class FinetuneRecipe:
    """Full network + Linear head; lr = base_lr · batch_size / 256 (docs/protocols.md §4)."""

    name: str
    base_lr: float = 1e-4
    batch_size: int = 16
    epochs: int = 10
    warmup_epochs: float = 3.0
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    bandpass: bool = True
    augment: bool = True

    @property
    def lr(self) -> float:
        return self.base_lr * self.batch_size / 256

    @property
    def schedule(self) -> MAECosine:
        return MAECosine(base_lr=self.lr, warmup_epochs=self.warmup_epochs)

    def to_dict(self) -> dict:
        return {**asdict(self), "lr": self.lr, "schedule": "MAECosine (warm-up from 0, cosine to 0, per iteration)"}


FINETUNE_CODE = FinetuneRecipe("code")
# The paper's table gives no betas, filtering or augmentation: AdamW defaults, raw signals.
FINETUNE_PAPER = FinetuneRecipe("paper", betas=(0.9, 0.999), bandpass=False, augment=False)

# The code recipe on standardised features: for small, briefly trained encoders whose features barely
# vary across records, where a head trained with the code recipe on raw features stays near its priors.
PROBE_CODE_STANDARDISED = replace(PROBE_CODE, name="code, standardised features", standardize=True)

PROBE_RECIPES = {"code": PROBE_CODE, "paper": PROBE_PAPER, "code-standardised": PROBE_CODE_STANDARDISED}
FINETUNE_RECIPES = {"code": FINETUNE_CODE, "paper": FINETUNE_PAPER}


def probe_recipe(recipe: Literal["code", "paper", "code-standardised"] | ProbeRecipe) -> ProbeRecipe:
    return recipe if isinstance(recipe, ProbeRecipe) else PROBE_RECIPES[recipe]


def finetune_recipe(recipe: Literal["code", "paper"] | FinetuneRecipe) -> FinetuneRecipe:
    return recipe if isinstance(recipe, FinetuneRecipe) else FINETUNE_RECIPES[recipe]
