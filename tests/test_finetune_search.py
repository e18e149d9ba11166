"""The validation-chosen fine-tuning recipe and the early-stopping hook of ``finetune``."""

import dataclasses

import pytest

from ecgjepa_core.evaluation import FINETUNE_PAPER, finetune, random_encoder
from ecgjepa_core.evaluation.finetune_search import finetune_search, search_recipe
from ecgjepa_core.evaluation.recipes import FINETUNE_CODE
from ecgjepa_core.study.profiles import EvalPlan
from ecgjepa_core.study.tables import _search_lrs
from tests.test_evaluate import one_thread, tiny_cfg, toy_signals  # noqa: F401 (autouse fixture)


@pytest.fixture(scope="module")
def data():
    (xtr, ytr), (xva, yva), (xte, yte) = toy_signals(96, seed=0), toy_signals(48, seed=1), toy_signals(48, seed=2)
    return xtr, ytr, xva, yva, xte, yte


def test_search_recipe_sets_the_applied_lr():
    r = search_recipe(FINETUNE_PAPER, 1e-3, max_epochs=7, warmup_epochs=1.0)
    assert r.lr == pytest.approx(1e-3) and r.epochs == 7 and r.warmup_epochs == 1.0 and "searched" in r.name


def test_early_stopping_stops_once_validation_stops_improving(data):
    xtr, ytr, xva, yva, xte, yte = data
    frozen = dataclasses.replace(FINETUNE_PAPER, base_lr=0.0, epochs=6, warmup_epochs=1)
    r = finetune(random_encoder(tiny_cfg(), 0), xtr, ytr, xte, yte, "multiclass", recipe=frozen, select="val",
                 val_x=xva, val_y=yva, patience=1, n_boot=0, progress=False)
    # lr 0: epoch 2 cannot beat epoch 1 on validation, so training stops after it.
    assert [row["epoch"] for row in r.curve] == [0, 1, 2] and "2 epochs run" in r.protocol["early_stopping"]
    with pytest.raises(ValueError, match="validation split"):
        finetune(random_encoder(tiny_cfg(), 0), xtr, ytr, xte, yte, "multiclass", recipe=frozen, patience=1)


def test_search_picks_the_learning_rate_that_trains(data):
    xtr, ytr, xva, yva, xte, yte = data
    r = finetune_search(random_encoder(tiny_cfg(), 0), xtr, ytr, xva, yva, xte, yte, "multiclass",
                        lrs=(1e-7, 3e-3), max_epochs=4, patience=2, base="paper", n_boot=0)
    assert r.protocol["chosen_lr"] == 3e-3
    assert r.metrics["accuracy"] > 0.6  # 3 balanced classes: chance is 1/3
    assert r.protocol["search"].startswith("lr 1e-07: val auc_ovr") and "lr 0.003" in r.protocol["search"]
    assert r.protocol["selection"] == "best epoch on the validation split"


def test_the_search_grid_holds_the_authors_lr_only_where_the_profile_runs_it():
    assert _search_lrs(EvalPlan(finetune_lrs=(1e-3,)), FINETUNE_CODE) == (FINETUNE_CODE.lr, 1e-3)
    assert _search_lrs(EvalPlan(finetune_lrs=(1e-3,), finetune_authors_lr=False), FINETUNE_CODE) == (1e-3,)
    with pytest.raises(ValueError, match="no learning rate to try"):
        EvalPlan(finetune_lrs=(), finetune_authors_lr=False)
