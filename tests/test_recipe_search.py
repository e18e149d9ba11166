"""The pretraining recipe search: candidates, validation scores kept in the run folders, the chosen run reused."""

from __future__ import annotations

import json

import pytest

from ecgjepa_core.study import recipe_search
from ecgjepa_core.study.profiles import PretrainRecipe, paper_recipe
from ecgjepa_core.study.study import RB, Study

FAST = {"pretrain.epochs": 1, "pretrain.search.lrs": [1e-3, 2e-3], "pretrain.search.warmup_epochs": 0.5,
        "pretrain.search.ema_start": 0.99}


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGJEPA_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("ECGJEPA_CACHE", str(tmp_path / "cache"))
    return Study("smoke", tmp_path / "out", overrides=FAST, progress=False)


def test_paper_recipe_keeps_lr_and_ema_and_scales_the_warm_up():
    assert paper_recipe("ECG-JEPA_rb", 100) == PretrainRecipe(2.5e-5, 5.0, 0.996)
    assert paper_recipe("ECG-JEPA_mb", 4) == PretrainRecipe(5e-5, 0.2, 0.996)
    assert paper_recipe("Weimann ECG-JEPA", 10) == PretrainRecipe(1e-3, 1.0, 0.998)


def test_search_tries_every_stage_and_its_choice_is_the_main_run(study):
    search = study.recipe_search(RB.method)
    table = search.table()
    default = study.default_recipe(RB.method)
    assert list(table["stage"]) == ["learning rate", "learning rate", "warm-up", "EMA start", "the paper's recipe"]
    best_lr = table[table.stage == "learning rate"].sort_values("val_auc", ascending=False, kind="stable").lr.iloc[0]
    assert set(table[table.stage != "the paper's recipe"].lr) == {1e-3, 2e-3}
    assert table[table.stage == "warm-up"].iloc[0][["lr", "warmup_epochs", "ema_start"]].tolist() == [
        best_lr, 0.5, default.ema_start]
    assert table.chosen.sum() == 1
    chosen = table[table.chosen].iloc[0]
    assert chosen.val_auc == table.val_auc.max()
    # The main row trains with the chosen recipe, so its first seed is the chosen candidate's run folder.
    assert study.recipe(RB) == search.chosen
    run_dir, result = study.pretrained(RB)
    assert result is None and run_dir.name == chosen.run
    saved = json.loads((run_dir / recipe_search.VALIDATION).read_text())
    assert saved["val_auc"] == pytest.approx(chosen.val_auc)
    assert search.chosen.text() in study.encoder_label(RB)


def test_scores_are_read_back_not_recomputed(study, monkeypatch):
    first = study.recipe_search(RB.method).table()
    monkeypatch.setattr(recipe_search, "curve_of_run", lambda *a, **k: pytest.fail("recomputed"))
    again = Study("smoke", study.output_dir, overrides=FAST, progress=False).recipe_search(RB.method).table()
    assert again.equals(first)
