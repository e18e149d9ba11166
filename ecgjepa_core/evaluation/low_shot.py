"""Low-shot linear evaluation (docs/protocols.md §5): a fraction of the training set, 3 draws, mean ± sd."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecgjepa_core.evaluation.linear_probe import linear_probe
from ecgjepa_core.evaluation.recipes import ProbeRecipe, probe_recipe
from ecgjepa_core.evaluation.scoring import ClassificationResult, Task, n_outputs, protocol_text


def low_shot_size(n_train: int, fraction: float) -> int:
    """n = round(N_train · p) with Python's rounding, as the authors (19,230 → 192 at 1 %, 1,923 at 10 %)."""
    return round(n_train * fraction)


def low_shot_draws(n_train: int, fraction: float, n_draws: int = 3, seed: int = 0) -> list[np.ndarray]:
    """``n_draws`` consecutive draws without replacement from one numpy RNG seeded once.

    The legacy ``RandomState`` stream is the one ``np.random.seed(0)`` + ``np.random.choice``
    gives, so the indices are the authors' draws for the same training order.
    """
    rs = np.random.RandomState(seed)
    n = low_shot_size(n_train, fraction)
    return [rs.choice(n_train, n, replace=False) for _ in range(n_draws)]


def absent_classes(task: Task, y: np.ndarray, n_classes: int) -> list[int]:
    """Classes with no positive (multi-label) or no record (multi-class) in ``y``."""
    present = y.sum(axis=0) > 0 if task == "multilabel" else np.bincount(y, minlength=n_classes) > 0
    return [int(c) for c in np.flatnonzero(~present)]


@dataclass
class LowShotResult:
    """Per-draw probes and mean ± population sd (ddof 0) of each final metric over draws.

    ``absent`` lists, per draw, the classes missing from its training subset: the head still
    has an output for them (trained towards "negative" by BCE, never the target under CE) and
    the test metrics are computed as usual.
    """

    fraction: float
    n_per_draw: int
    trials: list[ClassificationResult]
    mean: dict[str, float]
    sd: dict[str, float]
    absent: list[list[int]]
    protocol: dict

    def protocol_text(self) -> str:
        return protocol_text(self.protocol)


def low_shot_probe(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                   task: Task, fraction: float, recipe: str | ProbeRecipe = "code", n_draws: int = 3,
                   seed: int = 0, n_boot: int = 1000, split: str = "", encoder_desc: str = "") -> LowShotResult:
    """Linear probe on ``n_draws`` random subsets of the training features; the test set is unchanged.

    Draw k is probed with seed ``seed + k`` (head init, batch order): the authors seeded torch
    once per script, so successive trials started from different heads too.
    """
    recipe = probe_recipe(recipe)
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    n_classes = n_outputs(task, train_y, test_y)
    draws = low_shot_draws(len(train_y), fraction, n_draws, seed)
    trials = [linear_probe(np.asarray(train_x)[idx], train_y[idx], test_x, test_y, task, recipe, seed=seed + k,
                           n_classes=n_classes, n_boot=n_boot, split=split, encoder_desc=encoder_desc)
              for k, idx in enumerate(draws)]
    return over_draws(trials, draws, task, train_y, n_classes, fraction, seed, "low-shot linear probe", "probe_seeds")


def over_draws(trials: list, draws: list[np.ndarray], task: Task, train_y: np.ndarray, n_classes: int,
               fraction: float, seed: int, name: str, seeds_key: str) -> LowShotResult:
    """The trials of one low-shot fraction (one per draw of training rows) as mean ± population sd over draws."""
    values = {m: np.array([t.metrics[m] for t in trials]) for m in trials[0].metrics}
    protocol = {**trials[0].protocol, "protocol": name, "fraction": fraction,
                "n_train": len(draws[0]), "n_train_full": len(train_y), "draws": len(draws),
                "draw_rule": f"numpy RandomState({seed}).choice without replacement, {len(draws)} consecutive draws",
                seeds_key: f"{seed}…{seed + len(draws) - 1}", "aggregate": "mean ± population sd over draws"}
    protocol.pop("seed", None)
    return LowShotResult(fraction=fraction, n_per_draw=len(draws[0]), trials=trials,
                         mean={m: float(v.mean()) for m, v in values.items()},
                         sd={m: float(v.std()) for m, v in values.items()},
                         absent=[absent_classes(task, train_y[idx], n_classes) for idx in draws], protocol=protocol)
