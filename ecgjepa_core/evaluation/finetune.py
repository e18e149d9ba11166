"""Fine-tuning of the whole encoder + Linear head (docs/protocols.md §4).

Model: encoder (drop path 0, CroPA as configured) → mean of all tokens → Linear(D → C).
AdamW over all parameters, lr = base·batch/256, MAE per-iteration schedule. Recipe ``code``
band-passes train and test signals and applies RandAugment to training batches; recipe
``paper`` does neither. The test set (and an optional validation split) is evaluated before
training (epoch 0, curve only) and after every epoch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ecgjepa_core.progress import progress_bar
from ecgjepa_core.models.ecgjepa import DropPath, Encoder
from ecgjepa_core.training.precision import Precision, autocast_for
from ecgjepa_core.evaluation.augment import augment_batch
from ecgjepa_core.evaluation.filters import bandpass
from ecgjepa_core.evaluation.linear_probe import default_init_linear
from ecgjepa_core.evaluation.recipes import FinetuneRecipe, finetune_recipe
from ecgjepa_core.evaluation.scoring import (BALANCED_TEXT, ClassificationResult, ClassWeights, EpochEval,
                                             Selection, Task, balanced_class_weights, build_result, check_task,
                                             evaluate_scores, headline_metric, loss_fn, n_outputs, scores_from_logits)
from ecgjepa_core.evaluation.scoring import select as select_epochs  # ``select`` is a parameter below



class Classifier(nn.Module):
    """(B, L', T) -> (B, C) logits: ``encoder.representation(x, leads)`` then a Linear head."""

    def __init__(self, encoder: Encoder, head: nn.Linear, leads: Sequence[int] | None):
        super().__init__()
        self.encoder, self.head = encoder, head
        self.leads = None if leads is None else list(leads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder.representation(x, leads=self.leads))


def without_drop_path(encoder: Encoder) -> Encoder:
    """A deep copy of ``encoder`` with every stochastic-depth rate set to 0 (docs/protocols.md §1)."""
    encoder = copy.deepcopy(encoder)
    for m in encoder.modules():
        if isinstance(m, DropPath):
            m.p = 0.0
    return encoder


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, batch_size: int, precision: Precision,
            device: torch.device) -> np.ndarray:
    """(N, L', T) -> (N, C) float64 logits in eval mode."""
    model.eval()
    out = []
    for start in range(0, len(x), batch_size):
        batch = torch.as_tensor(x[start:start + batch_size]).to(device)
        with autocast_for(precision, device):
            out.append(model(batch).float().cpu())
    return torch.cat(out).numpy().astype(np.float64)


def finetune(encoder: Encoder, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
             test_y: np.ndarray, task: Task, recipe: str | FinetuneRecipe = "code", select: Selection = "last",
             val_x: np.ndarray | None = None, val_y: np.ndarray | None = None,
             leads: Sequence[int] | None = None, seed: int = 0, precision: Precision = "fp32",
             device: str | torch.device = "cpu", n_classes: int | None = None, n_boot: int = 1000,
             eval_batch_size: int = 64, split: str = "", encoder_desc: str = "",
             progress: bool = True, patience: int | None = None,
             class_weights: ClassWeights = "none") -> ClassificationResult:
    """Fine-tune a copy of ``encoder`` (the caller's weights are untouched); report under ``select``.

    Signals (N, L, T) hold all model leads; ``leads`` keeps a subset with its original codes.
    ``select``: ``last`` (reported by default), ``val`` (needs ``val_x``/``val_y``) or
    ``test_best`` (the authors' per-metric best on test, labelled as such). Randomness: head
    init and batch order from a ``torch.Generator``, augmentation from a numpy Generator, both
    seeded with ``seed``. ``result.model`` is the fine-tuned :class:`Classifier` after the last epoch.
    ``patience`` (needs a validation split) stops training once the validation headline metric has
    not improved for that many epochs; the lr schedule still spans ``recipe.epochs``.
    ``class_weights="balanced"`` weights the loss by inverse training class frequency
    (:func:`balanced_class_weights`): not the authors' loss, for small training sets where the plain one
    leaves every record on the majority class.
    """
    recipe = finetune_recipe(recipe)
    device = torch.device(device)
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    check_task(task, train_y)
    check_task(task, test_y)
    if patience is not None and val_x is None:
        raise ValueError("early stopping (patience) needs a validation split (val_x, val_y)")
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)

    def prepare(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        x = x if leads is None else x[:, list(leads)]
        return bandpass(x) if recipe.bandpass else x

    train_x, test_x = prepare(train_x), prepare(test_x)
    val_x = prepare(val_x) if val_x is not None else None
    n_out = n_classes or n_outputs(task, train_y, test_y, *([val_y] if val_y is not None else []))
    enc = without_drop_path(encoder)
    model = Classifier(enc, default_init_linear(enc.cfg.embed_dim, n_out, gen), leads).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, betas=recipe.betas, weight_decay=recipe.weight_decay)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    if class_weights not in ("none", "balanced"):
        raise ValueError(f"class_weights must be 'none' or 'balanced', got {class_weights!r}")
    loss = loss_fn(task, balanced_class_weights(task, train_y, n_out).to(device) if class_weights == "balanced"
                   else None)
    y_train = torch.as_tensor(train_y)
    n, bs = len(train_x), recipe.batch_size
    iters = math.ceil(n / bs)

    def scores_on(x: np.ndarray) -> np.ndarray:
        return scores_from_logits(task, predict(model, x, eval_batch_size, precision, device))

    def evaluate(epoch: int, train_loss: float) -> EpochEval:
        scores = scores_on(test_x)
        val = {} if val_x is None else evaluate_scores(task, np.asarray(val_y), scores_on(val_x))
        return EpochEval(epoch, train_loss, evaluate_scores(task, test_y, scores), scores, val)

    start = evaluate(0, float("nan"))
    history: list[EpochEval] = []
    step = 0
    for epoch in progress_bar(range(1, recipe.epochs + 1), desc="fine-tune", disable=not progress):
        model.train()
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(iters):
            idx = order[i * bs:(i + 1) * bs]
            batch = train_x[idx.numpy()]
            if recipe.augment:
                batch = augment_batch(batch, rng)
            for group in opt.param_groups:
                group["lr"] = recipe.schedule.lr_at(step, iters, recipe.epochs)
            with autocast_for(precision, device):
                batch_loss = loss(model(torch.as_tensor(batch).to(device)).float(), y_train[idx].to(device))
            opt.zero_grad(set_to_none=True)
            scaler.scale(batch_loss).backward()
            scaler.step(opt)
            scaler.update()
            step += 1
            total += batch_loss.item() * len(idx)
        history.append(evaluate(epoch, total / n))
        if patience is not None and epoch - select_epochs(history, task, "val")[1] >= patience:
            break

    protocol = {
        "protocol": "fine-tuning (encoder + Linear head on the mean-pooled representation)",
        "encoder": encoder_desc, "task": task, "recipe": recipe.name,
        "optimiser": f"AdamW over all parameters, lr {recipe.lr:g} (= {recipe.base_lr:g}·{bs}/256), "
                     f"betas {recipe.betas}, wd {recipe.weight_decay}",
        "schedule": f"warm-up {recipe.warmup_epochs:g} epochs from 0, cosine to 0, per iteration",
        "batch": bs, "epochs": recipe.epochs, "precision": precision,
        "loss": ("BCE" if task == "multilabel" else "cross-entropy")
                + (f", {BALANCED_TEXT}" if class_weights == "balanced" else ""),
        **({} if patience is None else {"early_stopping": f"patience {patience} epochs on validation "
                                                          f"{headline_metric(task)}, {len(history)} epochs run"}),
        "bandpass": "0.67 Hz high-pass + 40 Hz low-pass, Butterworth order 5, zero-phase, train and test"
                    if recipe.bandpass else "none",
        "augment": "RandAugment 2 of 8 ops, p 0.5, level 10 (train only)" if recipe.augment else "none",
        "leads": "all" if leads is None else list(leads), "drop_path": 0.0, "cropa": enc.cfg.cropa, "seed": seed,
        "n_train": n, "n_test": len(test_y), "n_val": len(val_y) if val_y is not None else 0, "split": split,
    }
    result = build_result(task, history, test_y, select, protocol, n_boot, seed, extra_rows=[start])
    result.model = model.cpu().eval()
    return result
