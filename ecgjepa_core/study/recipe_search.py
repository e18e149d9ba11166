"""The pretraining recipe chosen for the profile's budget: one search, the same for every method.

A recipe is the peak learning rate, the warm-up and the EMA momentum's start (``profiles.PretrainRecipe``).
Where the profile has a ``pretrain.search`` (``profiles.RecipeSearch``), each method (Kim rb, Kim mb, Weimann)
runs the same candidates, each one pretraining run of the first seed at the main length:

1. every learning rate of the grid, at the profile's warm-up and EMA start;
2. at stage 1's best learning rate, the other warm-up, and separately the other EMA start;
3. the paper's own recipe at this length (``profiles.paper_recipe``).

Each run is scored by the validation probe of the learning curves: a linear probe on its mean-pooled features,
trained on PTB-XL folds 1-8 and scored (macro AUC, multi-label) on fold 9, never on the test fold. The best
candidate (ties: the earlier one) becomes the method's recipe, so its run is the main row's first seed; the
score is kept in the run folder (``validation.json``) and computed once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ecgjepa_core.data.splits import ptbxl_standard_split
from ecgjepa_core.study.learning_curves import curve_of_run, pooled_features
from ecgjepa_core.study.profiles import PretrainRecipe

if TYPE_CHECKING:
    from ecgjepa_core.study.study import Study, Variant

VALIDATION = "validation.json"
STAGES = ("learning rate", "warm-up", "EMA start", "the paper's recipe")


@dataclass(frozen=True)
class Candidate:
    """One recipe tried: the stage that proposed it, its run's validation AUC and run folder name."""

    recipe: PretrainRecipe
    stage: str
    val_auc: float
    run: str


@dataclass(frozen=True)
class SearchResult:
    method: str
    candidates: tuple[Candidate, ...]
    chosen: PretrainRecipe

    def table(self) -> pd.DataFrame:
        """One row per candidate: method, stage, recipe, validation AUC, whether it was chosen, run folder."""
        return pd.DataFrame([{"method": self.method, "stage": c.stage, "lr": c.recipe.lr,
                              "warmup_epochs": c.recipe.warmup_epochs, "ema_start": c.recipe.ema_start,
                              "val_auc": round(c.val_auc, 4), "chosen": c.recipe == self.chosen, "run": c.run}
                             for c in self.candidates])


def validation_auc(study: "Study", variant: "Variant") -> float:
    """The fold-9 AUC of a linear probe (folds 1-8) on the mean-pooled features of ``variant``'s final encoder,
    pretraining it first if needed; read from ``validation.json`` in its run folder when it was scored there
    with the same probe."""
    run_dir, _ = study.pretrained(variant)
    epoch = study.epochs_of(variant)
    probe = {"epoch": epoch, "probe_recipe": "code-standardised", "seed": study.seed,
             "split": "PTB-XL folds 1-8 / 9", "ptbxl": study.ptbxl.cache.info["source_fingerprint"]}
    path = run_dir / VALIDATION
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("probe") == probe:
            return float(saved["val_auc"])
    data = study.ptbxl
    split = ptbxl_standard_split(data.records)
    x = study.inputs(variant, data)
    curve = curve_of_run(run_dir, variant.family, pooled_features(x, study.device), data.y,
                         data.rows(split.train), data.rows(split.val), seed=study.seed, epochs=[epoch])
    auc = float(curve["probe_val_auc"].iloc[0])
    path.write_text(json.dumps({"probe": probe, "val_auc": auc}, indent=1))
    return auc


def choose(study: "Study", method: str) -> SearchResult:
    """Run the search of :mod:`this module <ecgjepa_core.study.recipe_search>` for ``method`` (pretraining every
    candidate not yet on disk) and return every candidate with the chosen recipe."""
    search = study.profile.pretrain.search
    if search is None:
        raise ValueError(f"profile {study.profile.name!r} has no recipe search")
    base = study.main_variant(method)
    default = study.default_recipe(method)
    tried: dict[PretrainRecipe, Candidate] = {}

    def score(recipe: PretrainRecipe, stage: str) -> float:
        if recipe not in tried:
            variant = replace(base, recipe=recipe)
            auc = validation_auc(study, variant)
            tried[recipe] = Candidate(recipe, stage, auc, study.pretrained(variant)[0].name)
        return tried[recipe].val_auc

    first = [replace(default, lr=lr) for lr in search.lrs]
    scores = [score(r, STAGES[0]) for r in first]
    best_lr = first[int(np.argmax(scores))].lr
    score(PretrainRecipe(best_lr, search.warmup_epochs, default.ema_start), STAGES[1])
    score(PretrainRecipe(best_lr, default.warmup_epochs, search.ema_start), STAGES[2])
    score(study.paper_recipe(method), STAGES[3])
    candidates = tuple(tried.values())
    chosen = max(candidates, key=lambda c: c.val_auc).recipe  # max keeps the first of equals
    return SearchResult(method, candidates, chosen)


def caption(study: "Study") -> str:
    """The search in one paragraph, for the table written beside the runs."""
    search = study.profile.pretrain.search
    return (f"Each candidate is one pretraining run (seed {study.seed}, {study.epochs} epochs), scored by the "
            "validation AUC of a linear probe on its mean-pooled features (PTB-XL folds 1-8 train, fold 9 "
            f"validation; never the test fold). Stage 1: peak lr {', '.join(f'{lr:g}' for lr in search.lrs)} at the "
            f"profile's warm-up and EMA start; stage 2, at the best lr: warm-up {search.warmup_epochs:g} epoch(s), "
            f"and separately EMA start {search.ema_start:g}; and the paper's own recipe at this length. The best "
            "candidate (the first of equals) is the method's recipe and its run the main row's first seed.")


def chosen_sentences(table: pd.DataFrame) -> list[str]:
    """Per method of a :meth:`SearchResult.table` frame: the chosen recipe and the paper's, with their AUCs."""
    lines = []
    for method, rows in table.groupby("method", sort=False):
        best = rows[rows["chosen"]].iloc[0]
        paper = rows[rows["stage"] == STAGES[3]].iloc[0]
        lines.append(f"{method}: chose lr {best.lr:g}, warm-up {best.warmup_epochs:g} epoch(s), EMA from "
                     f"{best.ema_start:g} (validation AUC {best.val_auc:.3f}; the candidates span "
                     f"{rows.val_auc.min():.3f}-{rows.val_auc.max():.3f}); the paper's recipe (lr {paper.lr:g}) "
                     f"reached {paper.val_auc:.3f}.")
    return lines
