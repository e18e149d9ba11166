"""Fine-tuning with its recipe chosen on the validation split, the same search for every initialisation.

The authors' recipe (lr 1e-4 · 16/256 = 6.25e-6, 10 epochs) is tuned for 100-epoch encoders and
hundreds of thousands of records; at another scale it may not train at all. Here a small grid of
learning rates is tried, each run stopped early on the validation headline metric, and the run
and epoch with the best validation value are reported on test. Pretrained encoders and the
randomly initialised one (supervised from scratch) go through the identical search, so neither
is favoured by the choice of recipe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ecgjepa_core.evaluation.finetune import finetune
from ecgjepa_core.evaluation.recipes import FinetuneRecipe, finetune_recipe
from ecgjepa_core.evaluation.scoring import ClassificationResult, Task, headline_metric
from ecgjepa_core.models.ecgjepa import Encoder

# AdamW learning rates as applied (after batch scaling), a factor ~3 apart.
SEARCH_LRS = (1e-4, 3e-4, 1e-3)


def search_recipe(base: FinetuneRecipe, lr: float, max_epochs: int, warmup_epochs: float) -> FinetuneRecipe:
    """``base`` with the applied lr ``lr`` (base_lr = lr · 256 / batch), ``max_epochs`` and a shorter warm-up."""
    return dataclasses.replace(base, name=f"{base.name}, lr {lr:g}, searched", base_lr=lr * 256 / base.batch_size,
                               epochs=max_epochs, warmup_epochs=min(warmup_epochs, base.warmup_epochs))


def finetune_search(encoder: Encoder, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray,
                    val_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, task: Task,
                    lrs: Sequence[float] = SEARCH_LRS, max_epochs: int = 20, patience: int = 3,
                    warmup_epochs: float = 1.0, base: str | FinetuneRecipe = "code", seed: int = 0,
                    **finetune_kwargs) -> ClassificationResult:
    """:func:`finetune` of ``encoder`` once per learning rate in ``lrs`` (same seed), each on the ``base`` recipe
    for at most ``max_epochs`` with early stopping (``patience``) on validation; returns the run with the best
    validation headline metric at its best epoch (ties: the smaller lr), its test metrics at that epoch.

    (N, L, T) signals as for :func:`finetune`; ``finetune_kwargs`` pass through (leads, n_boot, encoder_desc, …).
    ``protocol['search']`` records every run: lr, best validation value, its epoch, epochs run;
    ``protocol['runs']`` holds every run's result by lr (e.g. to report one lr of the grid beside the choice).
    """
    if len(lrs) == 0:
        raise ValueError("finetune_search needs at least one learning rate")
    base = finetune_recipe(base)
    key = headline_metric(task)
    runs = []
    for lr in lrs:
        result = finetune(encoder, train_x, train_y, test_x, test_y, task,
                          recipe=search_recipe(base, lr, max_epochs, warmup_epochs), select="val",
                          val_x=val_x, val_y=val_y, seed=seed, patience=patience, **finetune_kwargs)
        best_val = next(row[f"val_{key}"] for row in result.curve if row["epoch"] == result.selected_epoch)
        runs.append((lr, best_val, result))
    lr, _, chosen = max(runs, key=lambda run: (run[1], -run[0]))
    chosen.protocol = {
        **chosen.protocol,
        "protocol": "fine-tuning, recipe searched on the validation split (encoder + Linear head)",
        "search": "; ".join(f"lr {r_lr:g}: val {key} {v:.3f} at epoch {r.selected_epoch} of "
                            f"{sum(1 for row in r.curve if row['epoch'] > 0)}" for r_lr, v, r in runs),
        "chosen_lr": lr,
        "search_rule": f"lrs {list(lrs)}, at most {max_epochs} epochs, early stopping after {patience} epochs "
                       f"without a better validation {key}; the best validation value over runs and epochs",
        "runs": {r_lr: r for r_lr, _, r in runs},
    }
    return chosen
