"""How much of a trained JEPA's loss does the position of a token alone explain?

Three losses of one trained model (student or context encoder, predictor, teacher or target encoder), each
the model's own loss on the same records and masks, in eval mode (no stochastic depth):

* ``real``: the student sees the records, as in training;
* ``position_only``: the student sees an all-zero signal, so its tokens carry nothing but their position
  codes, while the targets still come from the teacher on the real records;
* ``position_mean``: no model at all: every target token is predicted by the mean target at its position
  over the records (the best any position-only predictor could do, up to the loss's shape).

If ``position_only`` is close to ``real``, the predictor reaches its loss from position alone and the
pretraining signal that depends on the record is small; ``position_mean`` says what position alone could
reach. Kim's objective (Smooth-L1 on layer-normed teacher tokens, one time mask per batch) and Weimann &
Conrad's (L1 on target tokens, per-sample masks) are both covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from ecgjepa_core.models.ecgjepa import ECGJEPA, position_free
from ecgjepa_core.models.weimann import WeimannJEPA, gather_tokens


@dataclass(frozen=True)
class ShortcutLosses:
    real: float
    position_only: float
    position_mean: float
    n_records: int
    n_masks: int

    @property
    def position_only_ratio(self) -> float:
        """``position_only / real``: 1 when the record the student sees does not lower the loss at all."""
        return self.position_only / self.real

    def row(self) -> dict:
        return {**asdict(self), "position_only_ratio": self.position_only_ratio}


def _kim_targets(model: ECGJEPA, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, L·M, D) layer-normed teacher tokens at the masked positions (made position-free as the model's are)."""
    B, L = x.shape[:2]
    tokens = model.teacher(x)
    target = position_free(F.layer_norm(tokens, (tokens.shape[-1],)), model.cfg.targets)
    return target.view(B, L, model.cfg.n_patches, -1)[:, :, mask].reshape(B, -1, tokens.shape[-1])


def _kim_predictions(model: ECGJEPA, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    B, L = x.shape[:2]
    predicted = model.predictor(model.student(x, visible=~mask), mask)
    n = int(mask.sum())
    return predicted.view(B, L, model.cfg.n_patches, -1)[:, :, -n:].reshape(B, -1, predicted.shape[-1])


@torch.no_grad()
def kim_shortcut_losses(model: ECGJEPA, x: torch.Tensor, masks: Sequence[torch.Tensor],
                        batch_size: int = 64) -> ShortcutLosses:
    """The three losses of :mod:`this module <ecgjepa_core.training.shortcut>` for Kim's model on the (N, L, T)
    records ``x`` and each (N_patches,) bool time mask of ``masks``, averaged over masks and records."""
    was = model.training
    model.eval()
    sums = {"real": 0.0, "position_only": 0.0, "position_mean": 0.0}
    try:
        for mask in masks:
            mask = mask.to(torch.bool)
            targets = torch.cat([_kim_targets(model, x[i:i + batch_size], mask) for i in range(0, len(x), batch_size)])
            mean = targets.mean(dim=0, keepdim=True)
            for i in range(0, len(x), batch_size):
                b, t = x[i:i + batch_size], targets[i:i + batch_size]
                sums["real"] += F.smooth_l1_loss(_kim_predictions(model, b, mask), t).item() * len(b)
                sums["position_only"] += F.smooth_l1_loss(_kim_predictions(model, torch.zeros_like(b), mask),
                                                          t).item() * len(b)
                sums["position_mean"] += F.smooth_l1_loss(mean.expand_as(t), t).item() * len(b)
    finally:
        model.train(was)
    n = len(x) * len(masks)
    return ShortcutLosses(**{k: v / n for k, v in sums.items()}, n_records=len(x), n_masks=len(masks))


@torch.no_grad()
def weimann_shortcut_losses(model: WeimannJEPA, x: torch.Tensor,
                            masks: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> ShortcutLosses:
    """The same for Weimann & Conrad's model: ``masks`` holds (keep (N, K), masked (N, M)) token indices, one
    pair per draw for all N records; L1 losses on the unnormalised target tokens."""
    was = model.training
    model.eval()
    sums = {"real": 0.0, "position_only": 0.0, "position_mean": 0.0}
    try:
        tokens = model.target_encoder(x)                                   # (N, S, D)
        mean_by_position = tokens.mean(dim=0, keepdim=True).expand_as(tokens)
        for keep, masked in masks:
            target = gather_tokens(tokens, masked)
            for name, inputs in (("real", x), ("position_only", torch.zeros_like(x))):
                predicted = model.predictor(model.encoder(inputs, keep), keep, masked)
                sums[name] += (predicted - target).abs().mean().item()
            sums["position_mean"] += (gather_tokens(mean_by_position, masked) - target).abs().mean().item()
    finally:
        model.train(was)
    return ShortcutLosses(**{k: v / len(masks) for k, v in sums.items()}, n_records=len(x), n_masks=len(masks))
