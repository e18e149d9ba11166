"""Linear evaluation on frozen features (docs/protocols.md §2): Linear(D → C), evaluated on test every epoch.

Randomness (head init, batch order) comes from one ``torch.Generator`` seeded at the start of
the run, so a run is reproducible without touching the global RNG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from ecgjepa_core.evaluation.recipes import ProbeRecipe, probe_recipe
from ecgjepa_core.evaluation.scoring import (ClassificationResult, EpochEval, Selection, Task, build_result, check_task, evaluate_scores,
                      loss_fn, n_outputs, scores_from_logits)


def default_init_linear(d_in: int, d_out: int, gen: torch.Generator) -> nn.Linear:
    """``nn.Linear`` with PyTorch's default initialisation, drawn from ``gen``."""
    layer = nn.Linear(d_in, d_out)
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(d_in)
        layer.bias.uniform_(-bound, bound, generator=gen)
    return layer


@contextmanager
def one_intra_op_thread() -> Iterator[None]:
    """Batches of 16 × D are far too small to split; extra threads only add contention (6× slower measured)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def train_linear_head(head: nn.Linear, x: torch.Tensor, y: torch.Tensor,
                      loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], recipe: ProbeRecipe,
                      gen: torch.Generator, after_epoch: Callable[[int, float], None]) -> None:
    """AdamW on shuffled batches of (N, D) features, lr set per step by ``recipe.schedule``.

    The last batch of an epoch may be smaller (DataLoader default). ``after_epoch(epoch, mean
    train loss)`` runs after every epoch (1-based).
    """
    n, bs = len(x), recipe.batch_size
    iters = math.ceil(n / bs)
    opt = torch.optim.AdamW(head.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    step = 0
    for epoch in range(1, recipe.epochs + 1):
        head.train()
        order = torch.randperm(n, generator=gen)
        total = 0.0
        with one_intra_op_thread():
            for i in range(iters):
                idx = order[i * bs:(i + 1) * bs]
                for group in opt.param_groups:
                    group["lr"] = recipe.schedule.lr_at(step, iters, recipe.epochs)
                batch_loss = loss(head(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                batch_loss.backward()
                opt.step()
                step += 1
                total += batch_loss.item() * len(idx)
        after_epoch(epoch, total / n)


@torch.no_grad()
def predict_logits(head: nn.Module, x: torch.Tensor) -> np.ndarray:
    head.eval()
    return head(x).float().numpy().astype(np.float64)


def standardize(xs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every split's (N, D) features z-scored with the mean and sd of ``xs["train"]`` (constant
    features are only centred)."""
    mean, sd = xs["train"].mean(0), xs["train"].std(0, unbiased=False)
    sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    return {k: (v - mean) / sd for k, v in xs.items()}


def linear_probe(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                 task: Task, recipe: str | ProbeRecipe = "code", seed: int = 0, select: Selection = "last",
                 val_x: np.ndarray | None = None, val_y: np.ndarray | None = None, n_classes: int | None = None,
                 n_boot: int = 1000, split: str = "", encoder_desc: str = "") -> ClassificationResult:
    """Train a linear head on (N, D) features; report test metrics under ``select``.

    Targets: (N, C) multi-hot for ``multilabel``, (N,) class indices for ``multiclass``.
    ``recipe``: ``"code"`` (default, the setting behind the published numbers), ``"paper"``
    (the paper's table), ``"code-standardised"`` (the code recipe on features z-scored with the
    training records' statistics) or a :class:`ProbeRecipe`. ``n_classes`` fixes the head width when a
    class may be absent from the training data (low-shot). ``split`` and ``encoder_desc``
    (which weights made the features) go into the protocol for tables.
    """
    recipe = probe_recipe(recipe)
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    check_task(task, train_y)
    check_task(task, test_y)
    if len(train_y) == 0 or len(test_y) == 0:
        raise ValueError(f"linear_probe needs training and test records, got {len(train_y)} and {len(test_y)}")
    gen = torch.Generator().manual_seed(seed)
    n_out = n_classes or n_outputs(task, train_y, test_y, *([val_y] if val_y is not None else []))
    xs = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)) for k, v in
          (("train", train_x), ("test", test_x), ("val", val_x)) if v is not None}
    if recipe.standardize:
        xs = standardize(xs)
    y_train = torch.as_tensor(train_y)
    head = default_init_linear(xs["train"].shape[1], n_out, gen)
    history: list[EpochEval] = []

    def after_epoch(epoch: int, train_loss: float) -> None:
        scores = scores_from_logits(task, predict_logits(head, xs["test"]))
        val = (evaluate_scores(task, np.asarray(val_y), scores_from_logits(task, predict_logits(head, xs["val"])))
               if "val" in xs else {})
        history.append(EpochEval(epoch, train_loss, evaluate_scores(task, test_y, scores), scores, val))

    train_linear_head(head, xs["train"], y_train, loss_fn(task), recipe, gen, after_epoch)
    protocol = {
        "protocol": "linear probe on frozen features", "encoder": encoder_desc, "task": task, "recipe": recipe.name,
        "optimiser": f"AdamW lr {recipe.lr}, wd {recipe.weight_decay}, default betas",
        "schedule": recipe.to_dict()["schedule"], "batch": recipe.batch_size, "epochs": recipe.epochs,
        "features": "z-scored with the training records' mean and sd" if recipe.standardize else "raw",
        "head": f"Linear({xs['train'].shape[1]}→{n_out}), PyTorch default init", "seed": seed,
        "n_train": len(train_y), "n_test": len(test_y), "n_val": len(val_y) if val_y is not None else 0,
        "split": split,
    }
    return build_result(task, history, test_y, select, protocol, n_boot, seed)
