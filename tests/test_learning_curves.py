"""Learning curves of a pretraining run: one row per saved epoch, collapse verdict, extrapolation, figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.report.curves_figure import plot_learning_curves
from ecgjepa_core.study.learning_curves import (COLUMNS, collapse_verdict, curve_of_run, extrapolation_text,
                                                pooled_features)
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import pretrain
from tests.test_evaluate import one_thread  # noqa: F401 (autouse fixture)

TINY = ModelConfig(embed_dim=16, depth=1, num_heads=2, pred_embed_dim=8, pred_depth=1, pred_num_heads=2,
                   drop_path_rate=0.0)
N, TRAIN = 16, np.arange(10)
VAL = np.arange(10, 16)
# Two classes, each with positives and negatives among both the training and the validation rows.
Y = np.stack([np.arange(N) % 2, (np.arange(N) // 2) % 2], axis=1)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real two-epoch pretraining run of a tiny model on random records (L=8, T=2500)."""
    x = torch.randn(N, 8, TINY.n_samples, generator=torch.Generator().manual_seed(0))
    cfg = PretrainConfig(epochs=2, batch_size=4, lr=1e-3, warmup_epochs=0, save_every=1, seed=0, device="cpu",
                         progress=False)
    out = tmp_path_factory.mktemp("run")
    pretrain(x, TINY, cfg, out)
    return out, x.numpy()


def _curve(epochs, auc, sd, rank) -> pd.DataFrame:
    return pd.DataFrame({"epoch": epochs, "loss": np.nan, "probe_val_auc": auc, "mean_sd": sd,
                         "effective_rank": rank, "effective_rank_uncentred": rank, "dim": 16})


def test_curve_has_one_row_per_saved_epoch(run_dir, tmp_path):
    folder, x = run_dir
    curve = curve_of_run(folder, "kim", pooled_features(x), Y, TRAIN, VAL)
    assert list(curve.columns) == list(COLUMNS)
    assert curve["epoch"].tolist() == [1, 2]
    assert np.isfinite(curve.drop(columns="epoch").to_numpy(float)).all()
    assert ((curve["effective_rank"] >= 1) & (curve["effective_rank"] <= curve["dim"])).all()
    assert (curve["dim"] == TINY.embed_dim).all()
    assert curve_of_run(folder, "kim", pooled_features(x), Y, TRAIN, VAL, epochs=[2])["epoch"].tolist() == [2]
    verdict = collapse_verdict(curve, TINY.embed_dim)
    assert verdict.split(":")[0] in ("Collapsed", "Dimensional collapse", "No collapse")
    figure = plot_learning_curves(curve.assign(run="tiny seed 0"), tmp_path / "curves.png")
    assert figure.is_file() and figure.stat().st_size > 0
    assert not list(tmp_path.glob(".*.tmp"))


def test_an_empty_folder_is_named_in_the_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        curve_of_run(tmp_path, "kim", lambda e: None, Y, TRAIN, VAL)


def test_features_all_equal_give_the_collapsed_verdict(run_dir):
    folder, _ = run_dir
    constant = curve_of_run(folder, "kim", lambda encoder: np.ones((N, TINY.embed_dim), np.float32), Y, TRAIN, VAL)
    assert (constant["mean_sd"] == 0).all()
    assert collapse_verdict(constant, TINY.embed_dim).startswith("Collapsed")


def test_verdict_and_extrapolation_follow_the_data():
    healthy = _curve([1, 2, 3], [0.60, 0.65, 0.70], [0.5, 0.5, 0.5], [12.0, 12.5, 13.0])
    assert collapse_verdict(healthy, 16).startswith("No collapse")
    assert "still rising" in extrapolation_text(healthy)
    shrinking = _curve([1, 2, 3], [0.70, 0.65, 0.60], [0.5, 1e-3, 1e-4], [12.0, 3.0, 1.2])
    assert collapse_verdict(shrinking, 16).startswith("Collapsed")
    assert "falling" in extrapolation_text(shrinking)
    narrow = _curve([1, 2, 3], [0.70, 0.70, 0.70], [0.5, 0.4, 0.4], [12.0, 5.0, 2.5])
    assert collapse_verdict(narrow, 64).startswith("Dimensional collapse")
    assert "levelled off" in extrapolation_text(narrow)


def test_a_transient_dip_and_the_full_scale_paragraph_are_said():
    from ecgjepa_core.study.learning_curves import full_scale_text

    dipped = _curve([1, 2, 3, 4], [0.60, 0.55, 0.62, 0.66], [0.5, 0.05, 0.4, 0.5], [12.0, 4.0, 11.0, 13.0])
    verdict = collapse_verdict(dipped, 16)
    assert verdict.startswith("No collapse") and "at epoch 2 the mean sd was 0.05 (10% of epoch 1's)" in verdict
    assert "dipped" not in collapse_verdict(_curve([1, 2, 3], [0.6, 0.6, 0.6], [0.5, 0.4, 0.5], [12.0] * 3), 16)
    curves = pd.concat([dipped.assign(run="rb", loss=[0.4, 0.3, 0.2, 0.1]),
                        dipped.assign(run="mb", probe_val_auc=[0.7, 0.69, 0.65, 0.6])])
    text = full_scale_text(curves, steps=616, records=2434, width=96, paper_epochs=100)
    assert "rising for 1 of 2 runs and falling for 1" in text and "616 steps on 2,434 ECGs" in text
    assert "the pretraining loss still fell for 1" in text  # mb's loss is unknown (NaN): not counted


def test_a_probe_at_chance_concludes_nothing_about_longer_pretraining():
    """A run whose validation probe stays at AUC 0.5 (the smoke profile's 10-step runs) has no trend to read."""
    from ecgjepa_core.study.learning_curves import at_chance, full_scale_text

    flat = _curve([1, 2], [0.500, 0.500], [0.5, 0.5], [12.0, 12.0]).assign(loss=[0.42, 0.41])
    assert at_chance(flat) and "stayed at chance" in extrapolation_text(flat)
    assert "would likely" not in extrapolation_text(flat)
    text = full_scale_text(pd.concat([flat.assign(run="rb"), flat.assign(run="mb")]), steps=10, records=60,
                           width=32, paper_epochs=100)
    assert "No run's validation probe has a trend" in text and "say nothing about longer pretraining" in text
    assert "would not raise" not in text
    moving = _curve([1, 2, 3], [0.60, 0.58, 0.55], [0.5, 0.5, 0.5], [12.0] * 3).assign(loss=[0.4, 0.3, 0.2])
    mixed = full_scale_text(pd.concat([flat.assign(run="rb"), moving.assign(run="mb")]), steps=10, records=60,
                            width=32, paper_epochs=100)
    assert "(1 of 2 without a trend to read)" in mixed and "would not raise the linear probes" in mixed
    assert not at_chance(moving)


def test_a_curve_on_a_handful_of_validation_records_has_no_trend():
    """The smoke profile's validation fold holds 3 records: a probe AUC of 0.125 there says nothing."""
    from ecgjepa_core.study.learning_curves import full_scale_text, no_trend

    tiny = _curve([1, 2], [0.125, 0.125], [0.5, 0.5], [12.0, 12.0]).assign(loss=[0.42, 0.41], val_records=3)
    assert "3 records, too few" in extrapolation_text(tiny) and no_trend(tiny.assign(val_records=183)) is None
    text = full_scale_text(tiny.assign(run="weimann"), steps=10, records=60, width=32, paper_epochs=100)
    assert "would not raise" not in text and "say nothing about longer pretraining" in text
