"""Weimann & Conrad's objective as an option of the pretraining loop (``pretrain`` with a ``WeimannConfig``).

What differs from Kim's objective inside the same loop, following their ``pretrain.py``:

* masks: per-sample contiguous block masks (``weimann_masking``), drawn for step t from a numpy
  generator seeded with (seed, t), so they are a function of the step alone and a resumed run
  draws the same ones without saved generator state;
* EMA: the target encoder moves with the momentum of step t *before* the targets of step t are
  computed (Kim's loop moves the teacher after the optimiser step);
* loss: L1 between the predictions and the unnormalised target tokens at the masked positions;
* optimiser: AdamW with eps 1e-6; weight decay only on Linear and Conv1d weights, its value set
  every step on a cosine from ``PretrainConfig.weight_decay`` to ``WeimannConfig.final_weight_decay``;
* learning rate: their ``cosine_schedule``: linear warm-up from 1e-6, then a cosine that starts at
  the end of the warm-up and reaches ``lr_min`` at the last step (Kim's timm cosine counts from step 0).

Peak and final learning rate, betas and the EMA range come from ``PretrainConfig``;
``WEIMANN_PRETRAIN`` holds their values. Warm-up is counted in whole epochs there (theirs: 10k of
100k steps). Their EMA momentum is linear in the step, as ``PretrainSchedule.momentum``.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch

from ecgjepa_core.models.weimann import WeimannJEPA, decay_parameter_names
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.models.weimann_masking import sample_masks
from ecgjepa_core.training.config import PretrainConfig

# PretrainConfig fields of their recipe (configs/pretrain/*.yaml): PretrainConfig(**WEIMANN_PRETRAIN, epochs=…).
WEIMANN_PRETRAIN = dict(lr=1e-3, lr_min=1e-6, betas=(0.9, 0.99), weight_decay=0.01, ema_start=0.998, ema_end=0.9995)


WARMUP_START_LR = 1e-6


def cosine_value(step: int, total_steps: int, start: float, end: float, warmup_steps: int = 0,
                 warmup_start: float = 0.0) -> float:
    """Their ``cosine_schedule`` at ``step``: linear from ``warmup_start`` to ``start`` over the warm-up,
    then a half cosine from ``start`` that reaches ``end`` at step ``total_steps - 1``."""
    if step < warmup_steps:
        return warmup_start + (start - warmup_start) * step / warmup_steps
    ratio = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps - 1))
    return end + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (start - end)


class WeimannObjective:
    """Builds the model and optimiser and runs one training step of Weimann & Conrad's objective."""

    def __init__(self, model_cfg: WeimannConfig, cfg: PretrainConfig):
        self.model_cfg, self.cfg = model_cfg, cfg
        self.model = WeimannJEPA(model_cfg)

    def optimizer(self) -> torch.optim.AdamW:
        """AdamW; group 0 (Linear/Conv1d weights) is decayed, group 1 (the rest) is not."""
        decay = decay_parameter_names(self.model)
        params = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        groups = [{"params": [p for n, p in params if n in decay], "weight_decay": self.cfg.weight_decay},
                  {"params": [p for n, p in params if n not in decay], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=self.cfg.lr_min, betas=self.cfg.betas, eps=self.model_cfg.opt_eps,
                                 fused=True)

    def lr(self, step: int, total_steps: int, warmup_steps: int) -> float:
        """Learning rate of ``step`` (set by the loop before the step)."""
        return cosine_value(step, total_steps, self.cfg.lr, self.cfg.lr_min, warmup_steps, WARMUP_START_LR)

    def masks(self, step: int, batch_size: int, num_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(keep (B, K), masked (B, M)) of step ``step``, drawn from a generator seeded with (seed, step)."""
        c = self.model_cfg
        rng = np.random.default_rng([self.cfg.seed, step])
        return sample_masks(batch_size, num_samples // c.patch_size, c.min_block_size, c.min_keep_ratio,
                            c.max_keep_ratio, rng)

    def train_step(self, trainer: torch.nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
                   amp: contextlib.AbstractContextManager, x: torch.Tensor, step: int, total_steps: int,
                   momentum: float) -> torch.Tensor:
        """One iteration after the learning rate is set: weight decay, masks, EMA, forward, backward, step."""
        optimizer.param_groups[0]["weight_decay"] = cosine_value(step, total_steps, self.cfg.weight_decay,
                                                                 self.model_cfg.final_weight_decay)
        keep, masked = (t.to(x.device) for t in self.masks(step, x.shape[0], x.shape[-1]))
        self.model.update_target(momentum)  # before the targets, as their loop does
        with amp:
            loss = trainer(x, keep, masked)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss
