"""Figures: each function writes a non-empty PNG and copes with tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ecgjepa_core.report import figures
from ecgjepa_core.models.config import MULTIBLOCK_MASK, RANDOM_MASK

CLASSES = ["NORM", "MI", "STTC", "CD", "HYP"]


def _written(fig, path) -> None:
    assert isinstance(fig, Figure)
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mask_frequencies():
    block = figures.mask_frequencies(MULTIBLOCK_MASK, n_draws=1000, seed=0)
    rand = figures.mask_frequencies(RANDOM_MASK, n_draws=1000, seed=0)
    assert block.shape == rand.shape == (50,)
    assert block[49] == 0                                  # start rule: last patch never masked
    assert block[:49].min() > 0 and block[20:30].mean() > 2 * block[[0, 48]].mean()  # taper at both ends
    assert abs(rand.mean() - 0.64) < 0.01 and rand.min() > 0.5
    np.testing.assert_array_equal(block, figures.mask_frequencies(MULTIBLOCK_MASK, n_draws=1000, seed=0))


def test_masking_and_cropa_figures(tmp_path):
    path = tmp_path / "sub" / "masking.png"
    _written(figures.plot_masking_strategies(path, n_examples=3, n_draws=200), path)
    path = tmp_path / "cropa.png"
    _written(figures.plot_cropa_mask(path), path)
    path = tmp_path / "cropa_small.png"
    _written(figures.plot_cropa_mask(path, n_leads=2, n_patches=5, query_lead=1, query_patch=3), path)


def test_pretraining_curves_from_folder_file_and_frame(tmp_path):
    steps = np.arange(30)
    df = pd.DataFrame({"step": steps, "epoch": steps // 10, "loss": 1 / (1 + steps), "lr": 1e-4 * np.ones(30),
                       "momentum": np.linspace(0.996, 1.0, 30), "samples_per_s": 100.0})
    (tmp_path / "run_a").mkdir()
    df.to_csv(tmp_path / "run_a" / "log.csv", index=False)
    df.head(1).to_csv(tmp_path / "one_row.csv", index=False)
    path = tmp_path / "curves.png"
    fig = figures.plot_pretraining_curves(path, {"a": tmp_path / "run_a", "b": tmp_path / "one_row.csv",
                                                 "c": df.assign(loss=df.loss * 2)}, smooth=5)
    _written(fig, path)


@pytest.mark.parametrize("multilabel", [True, False])
def test_roc_curves_tiny_with_absent_class(tmp_path, multilabel):
    rng = np.random.default_rng(0)
    scores = rng.random((6, 5))
    if multilabel:
        y = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [1, 1, 0, 0, 0],
                      [0, 0, 1, 0, 1], [0, 0, 0, 0, 1], [1, 0, 1, 0, 1]])   # CD absent
    else:
        y = np.array([0, 1, 2, 0, 1, 2])                                       # CD, HYP absent
    path = tmp_path / "roc.png"
    fig = figures.plot_roc_curves(path, y, scores, CLASSES, "toy ROC")
    _written(fig, path)
    assert "skipped" in fig.axes[0].get_title()
    assert any("CD: skipped" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


@pytest.mark.parametrize("method", ["pca", "tsne"])
@pytest.mark.parametrize("n", [3, 6])
def test_embedding_tiny(tmp_path, method, n):
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(n, 16))
    multi_hot = np.zeros((n, 5), int)
    multi_hot[np.arange(n), np.arange(n) % 3] = 1
    multi_hot[0, 4] = 1                                    # one record with two labels
    multi_hot[-1] = 0                                      # one with none
    path = tmp_path / f"emb_{method}_{n}.png"
    fig = figures.plot_embedding(path, feats, multi_hot, CLASSES, "toy", method=method)
    _written(fig, path)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith("multiple") for t in texts) and any(t.startswith("none") for t in texts)
    if method == "tsne" and n < 5:
        assert "PCA shown" in fig.axes[0].get_title()
    path = tmp_path / f"emb_str_{method}_{n}.png"
    _written(figures.plot_embedding(path, feats, np.array(["a", "b"] * n)[:n], title="str", method=method), path)


def test_ours_vs_paper(tmp_path):
    table = pd.DataFrame([
        {"method": "ECG-JEPA_mb", "dataset": "PTB-XL", "task": "all", "metric": "AUC", "ablation": "",
         "ours": 0.90, "sd": 0.01, "ci_low": math.nan, "ci_high": math.nan, "paper": 0.906, "paper_sd": 0.002},
        {"method": "ECG-JEPA_rb", "dataset": "PTB-XL", "task": "form", "metric": "AUC", "ablation": "cropa=no",
         "ours": 0.80, "sd": math.nan, "ci_low": 0.77, "ci_high": 0.83, "paper": math.nan, "paper_sd": math.nan},
        {"method": "ECG-JEPA_rb", "dataset": "CPSC", "task": "", "metric": "F1", "ablation": None,
         "ours": 0.70, "sd": math.nan, "ci_low": math.nan, "ci_high": math.nan, "paper": 0.72, "paper_sd": math.nan},
        {"method": "ECG-JEPA_mb", "dataset": "PTB-XL", "task": "heart rate", "metric": "MAE (bpm)", "ablation": "",
         "ours": 3.1, "sd": 2.0, "ci_low": 2.9, "ci_high": 3.3, "paper": 1.45, "paper_sd": math.nan},
    ])
    path = tmp_path / "ours_vs_paper.png"
    fig = figures.plot_ours_vs_paper(path, table, "toy comparison")
    _written(fig, path)
    scores, bpm = fig.axes[0], fig.axes[1]  # one panel per unit: never bpm on a 0-1 axis
    assert [t.get_text() for t in scores.get_yticklabels()] == [
        "ECG-JEPA_mb · PTB-XL · all · AUC", "ECG-JEPA_rb · CPSC · F1", "ECG-JEPA_rb · PTB-XL · form · cropa=no · AUC"]
    assert scores.get_xlabel() == "score (0-1)" and bpm.get_xlabel() == "bpm"
    assert len(scores.patches) == 5 and len(bpm.patches) == 2  # ours + paper where the paper has a value


def test_plot_ecg_writes_png(tmp_path):
    from ecgjepa_core.report.figures import plot_ecg

    path = tmp_path / "ecg.png"
    plot_ecg(path, np.random.default_rng(0).normal(size=(8, 2500)), ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"])
    assert path.stat().st_size > 1000
