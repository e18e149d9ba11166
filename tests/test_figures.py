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


def _row(method, protocol, metric, ours, paper=math.nan, low=math.nan, high=math.nan, split="paper split"):
    return {"method": method, "encoder": "pretrained here", "dataset": "PTB-XL", "task": "multi-class",
            "split": split, "protocol": protocol, "ablation": "", "metric": metric, "ours": ours, "sd": math.nan,
            "ci_low": low, "ci_high": high, "paper": paper, "paper_sd": 0.01 if paper == paper else math.nan}


def _inside(inner, outer) -> bool:
    return inner.x0 >= outer.x0 and inner.x1 <= outer.x1 and inner.y0 >= outer.y0 and inner.y1 <= outer.y1


def test_ours_vs_paper(tmp_path):
    """Every bar labelled by what tells its row apart, its value written at its end (a zero too), one panel per
    metric, the legend outside every panel, a CI entry only where whiskers are drawn."""
    table = pd.DataFrame([
        _row("ECG-JEPA_rb", "fine-tuned, lr searched", "AUC (one-vs-rest)", 0.83, 0.944, 0.77, 0.88),
        _row("ECG-JEPA_rb", "fine-tuned, authors' lr", "AUC (one-vs-rest)", 0.44, low=0.36, high=0.52),
        _row("Supervised", "fine-tuned, authors' lr", "F1", 0.0, low=0.0, high=0.0),
        _row("Supervised", "fine-tuned, authors' lr", "MAE (bpm)", 3.1, 1.45, 2.9, 3.3),
    ])
    path = tmp_path / "ours_vs_paper.png"
    fig = figures.plot_ours_vs_paper(path, table, "toy comparison")
    _written(fig, path)
    auc, f1, bpm = fig.axes
    assert [t.get_text() for t in auc.get_yticklabels()] == [
        "ECG-JEPA_rb · fine-tuned, lr searched", "ECG-JEPA_rb · fine-tuned, authors' lr"]  # protocol, not repeats
    assert auc.get_title(loc="left") == "AUC (one-vs-rest)" and bpm.get_xlabel() == "bpm"
    assert len(auc.patches) == 3 and len(bpm.patches) == 2  # ours + paper where the paper has a value
    assert "0.000" in [t.get_text() for t in f1.texts]  # a zero-height bar still reads
    assert {"0.830", "0.944", "0.440"} <= {t.get_text() for t in auc.texts} and "3.1" in {t.get_text() for t in bpm.texts}
    fig.canvas.draw()
    (legend,) = fig.legends
    box = legend.get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)
    assert [t.get_text() for t in legend.get_texts()] == ["ours", "95 % CI of ours", "paper", "± sd the paper reports"]
    bare = figures.plot_ours_vs_paper(tmp_path / "bare.png", table.assign(ci_low=math.nan, ci_high=math.nan,
                                                                          paper=math.nan))
    assert [t.get_text() for t in bare.legends[0].get_texts()] == ["ours"]  # no whiskers: no CI in the legend


def test_ours_vs_paper_keeps_a_readable_shape(tmp_path):
    """Two units of two rows each (Table 5's case) make a figure of ordinary proportions, not a strip."""
    table = pd.DataFrame([_row(m, "linear regression", metric, v, low=v - 1, high=v + 1)
                          for metric in ("MAE (bpm)", "MAE (ms)") for m, v in (("ECG-JEPA_rb", 10.0),
                                                                               ("Random init", 9.0))])
    for rows in (table, table.head(1)):
        width, height = figures.plot_ours_vs_paper(tmp_path / "t5.png", rows).get_size_inches()
        assert 0.35 <= height / width <= 2.5


def test_plot_ecg_writes_png(tmp_path):
    from ecgjepa_core.report.figures import plot_ecg

    path = tmp_path / "ecg.png"
    plot_ecg(path, np.random.default_rng(0).normal(size=(8, 2500)), ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"])
    assert path.stat().st_size > 1000
