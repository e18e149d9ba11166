"""Settings of one pretraining run: :class:`PretrainConfig`, and the fields of it that may change on resume."""

from __future__ import annotations

from dataclasses import dataclass

from ecgjepa_core.training.precision import Precision


@dataclass(frozen=True)
class PretrainConfig:
    """Optimisation of one pretraining run. Defaults: the paper's rb run (docs/method_kim.md §7, §9),
    except ``precision`` (paper: fp16, CUDA only) so that the defaults also run on CPU.

    batch_size: the global batch (split evenly over DDP ranks). warmup_epochs / lr_min: docs/method_kim.md §7.
    save_every: epochs between checkpoints (one is always written at the end).
    device: ``auto`` (CUDA if available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``; under
    torchrun ``auto``/``cuda`` mean ``cuda:LOCAL_RANK``.
    """

    epochs: int = 100
    batch_size: int = 128
    lr: float = 2.5e-5
    warmup_epochs: float = 5  # fractions allowed (rounded to whole iterations)
    lr_min: float = 1e-6
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    ema_start: float = 0.996
    ema_end: float = 1.0
    precision: Precision = "fp32"
    save_every: int = 5
    seed: int = 0
    num_workers: int = 0
    device: str = "auto"
    progress: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"precision must be fp32, bf16 or fp16, got {self.precision!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.save_every < 1:
            raise ValueError("epochs, batch_size and save_every must be >= 1")


# Fields that do not change any number a run computes: they may differ on resume.
RESUME_FREE_FIELDS = frozenset({"save_every", "num_workers", "device", "progress"})
