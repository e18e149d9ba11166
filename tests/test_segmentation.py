"""Token-to-sample heads, the U-Net baseline and a tiny end-to-end segmentation run on the shipped LUDB sample."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from ecgjepa_core.checkpoint import save_checkpoint
from ecgjepa_core.data.ludb_segmentation import load_segmentation_set, pipeline_check_split
from ecgjepa_core.evaluation.baselines import random_encoder
from ecgjepa_core.evaluation.delineation import METRICS
from ecgjepa_core.evaluation.segmentation import (CURVE_COLUMNS, PROTOCOLS, NEUROKIT, UNET, SegmentationConfig,
                                                  TokenHead, TokenLayout, fit, fit_and_score, kim_adapter,
                                                  segmentation_table, weimann_adapter)
from ecgjepa_core.evaluation.unet1d import UNet1d
from ecgjepa_core.models.weimann import WeimannEncoder
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.paths import SAMPLE_DIR
from ecgjepa_core.report.segmentation_figure import plot_segmentation_curves, plot_segmentation_overlay
from ecgjepa_core.study.profiles import smoke
from ecgjepa_core.study.registry import write_table_files
from ecgjepa_core.study.segmentation_table import table10_segmentation
from ecgjepa_core.study.study import Study

LUDB = SAMPLE_DIR / "ludb"
TINY = SegmentationConfig(epochs_frozen=2, epochs_finetune=1, epochs_unet=1, unet_width=4, bootstrap=20)


@pytest.mark.parametrize("layout", [TokenLayout(n_leads=2, n_samples=6, samples_per_token=3, leads_per_token=1),
                                    TokenLayout(n_leads=3, n_samples=6, samples_per_token=2, leads_per_token=3)])
def test_head_puts_each_token_output_on_its_leads_and_samples(layout):
    C = 4
    width = layout.samples_per_token * layout.leads_per_token * C
    head = TokenHead(width, layout, C)
    with torch.no_grad():  # identity head: logits are the token's own features
        head.proj.weight.copy_(torch.eye(width))
        head.proj.bias.zero_()
    tokens = torch.arange(layout.n_tokens * width, dtype=torch.float32).view(1, layout.n_tokens, width)
    logits = head(tokens)
    assert logits.shape == (1, layout.n_leads, layout.n_samples, C)
    s, l = layout.samples_per_token, layout.leads_per_token
    for lead in range(layout.n_leads):
        for t in range(layout.n_samples):
            token = (lead // l) * layout.time_tokens + t // s
            feature = ((t % s) * l + lead % l) * C
            assert torch.equal(logits[0, lead, t], tokens[0, token, feature:feature + C])


def test_whitened_training_tokens_have_unit_covariance_and_the_head_stays_affine():
    layout = TokenLayout(n_leads=1, n_samples=40, samples_per_token=4, leads_per_token=1)
    rng = np.random.default_rng(0)
    # Features of very different scales and strongly correlated, as a small encoder's tokens are.
    base = rng.normal(size=(64, layout.n_tokens, 6))
    tokens = (base @ np.diag([10.0, 3.0, 1.0, 0.3, 0.1, 0.03]) @ rng.normal(size=(6, 6))).astype(np.float32)
    head = TokenHead(6, layout).standardise_with(tokens, whiten=True)
    white = ((torch.as_tensor(tokens) - head.feature_mean) @ head.whitening).reshape(-1, 6).double()
    assert torch.allclose(torch.cov(white.T), torch.eye(6, dtype=torch.float64), atol=2e-2)
    scaled = TokenHead(6, layout).standardise_with(tokens)  # per feature: unit sd, correlations kept
    per_feature = ((torch.as_tensor(tokens) - scaled.feature_mean) @ scaled.whitening).reshape(-1, 6).double()
    assert torch.allclose(per_feature.std(0), torch.ones(6, dtype=torch.float64), atol=1e-3)
    assert torch.corrcoef(per_feature.T).abs().triu(1).max() > 0.5
    x = torch.as_tensor(tokens[:2])  # affine in the tokens: f(a + b) - f(b) = f(a) - f(0)
    zero = torch.zeros_like(x)
    assert torch.allclose(head(x + x) - head(x), head(x) - head(zero), atol=1e-2)


def test_fit_stops_after_patience_epochs_without_a_better_validation_score():
    layout = TokenLayout(n_leads=2, n_samples=100, samples_per_token=10, leads_per_token=1)
    rng = np.random.default_rng(1)
    tokens = rng.normal(size=(6, layout.n_tokens, 8)).astype(np.float32)
    labels = rng.integers(0, 4, size=(6, 2, 100)).astype(np.int8)
    head = TokenHead(8, layout)
    # lr 0: the weights never change, so the validation score never improves on epoch 1
    _, curve = fit(head, [{"params": head.parameters(), "lr": 0.0}], tokens[:4], labels[:4], tokens[4:], labels[4:],
                   ["a", "b"], 250.0, max_epochs=20, patience=3, batch=2, weight_decay=1e-4, seed=0)
    assert list(curve.columns) == CURVE_COLUMNS and curve["epoch"].tolist() == [1, 2, 3, 4]
    assert curve["val_miou_waves"].nunique() == 1
    head = TokenHead(8, layout)
    _, learning = fit(head, [{"params": head.parameters(), "lr": 1e-2}], tokens[:4], labels[:4], tokens[4:],
                      labels[4:], ["a", "b"], 250.0, max_epochs=5, patience=5, batch=2, weight_decay=1e-4, seed=0)
    assert len(learning) == 5 and learning["train_loss"].iloc[-1] < learning["train_loss"].iloc[0]


def test_unet_shape_and_odd_length():
    net = UNet1d(n_leads=3, width=4, depth=3).eval()
    x = torch.randn(2, 3, 250)  # not a multiple of 2^3
    assert net(x).shape == (2, 3, 250, 4)


def test_kim_segmentation_end_to_end_on_the_sample(tmp_path):
    profile = smoke()
    encoders = {name: kim_adapter(random_encoder(profile.model, seed), profile.ludb.recipe)
                for seed, name in enumerate(("random init", "other init"))}
    split = pipeline_check_split(["1", "2", "7"])
    res = segmentation_table(encoders, LUDB, TINY, split=split, random_init="random init", workers=2)
    methods = {(m, p) for m, p in zip(res.table["method"], res.table["protocol"])}
    assert methods == {(n, p) for n in encoders for p in PROTOCOLS} | {(UNET, "from scratch"),
                                                                     (NEUROKIT, "no training")}
    assert len(res.table) == len(methods) * len(METRICS) and (res.table["n_records"] == 1).all()
    miou = res.table[res.table["metric"] == "miou_waves"]["value"]
    assert np.isfinite(miou).all() and ((miou >= 0) & (miou <= 1)).all()
    assert set(res.record_scores["record_id"]) == {"7"}
    curves = res.curves()  # one row per epoch run of every trained run; neurokit2 trains nothing
    runs = curves.groupby(["method", "protocol"]).size().to_dict()
    assert runs == {**{(n, "frozen"): 2 for n in encoders}, **{(n, "fine-tuned"): 1 for n in encoders},
                    (UNET, "from scratch"): 1}
    plot_segmentation_curves(tmp_path / "curves.png", curves)
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    neurokit = next(r for r in res.runs if r.protocol == "no training")
    assert neurokit.protocol_info["QRS boundaries"] == "its ECG_R_Onsets / ECG_R_Offsets"
    assert set(res.claims["claim"]) == {"fine-tuned beats frozen", "pretraining beats random init"}
    assert len(res.claims) == 2 + 2  # fine-tuned vs frozen per encoder; other vs random per protocol
    fig = res.figure
    assert fig["record_id"] == "7" and fig["ecg"].shape == fig["truth"].shape == (8, 2500)
    path = tmp_path / "segmentation.png"
    plot_segmentation_overlay(path, fig["ecg"], fig["truth"], fig["pred"], fig["leads"], fig["fs"])
    assert path.stat().st_size > 10_000
    # The caller's encoder is not changed by fine-tuning.
    before = {k: v.clone() for k, v in encoders["other init"].state_dict().items()}
    again = fit_and_score("other init", "fine-tuned", load_segmentation_set(
        LUDB, replace(profile.ludb.recipe, dtype="float32"), encoders["other init"].lead_names), split, TINY,
        encoders["other init"])
    assert all(torch.equal(before[k], v) for k, v in encoders["other init"].state_dict().items())
    # Same seed, same numbers, in-process as in a worker process.
    first = res.record_scores.query("method == 'other init' and protocol == 'fine-tuned'")
    assert np.array_equal(again.stats.to_numpy(), first[again.stats.columns].to_numpy())


def test_weimann_tokens_plug_in():
    cfg = WeimannConfig(dim=16, depth=1, num_heads=2, pred_dim=8, pred_depth=1, pred_num_heads=2)
    encoder = WeimannEncoder(cfg).eval()
    recipe = replace(smoke().ludb.recipe, n_samples=5000, dtype="float32")  # 12 leads at 500 Hz
    adapter = weimann_adapter(encoder, recipe)
    data = load_segmentation_set(LUDB, recipe, adapter.lead_names)
    run = fit_and_score("weimann", "frozen", data, pipeline_check_split(data.record_ids), TINY, adapter)
    assert run.pred.shape == (1, 12, 5000) and run.input == "12 leads @ 500 Hz"
    assert "25 samples x 12 leads" in run.protocol_info["head"]


def test_table10_keeps_learning_curves_and_says_what_each_run_did(tmp_path):
    files = {key: save_checkpoint(tmp_path / f"{key}.pt", random_encoder(smoke().model, seed))
             for seed, key in enumerate(("rb", "mb"), start=1)}
    study = Study("smoke", tmp_path / "out", encoders={k: str(v) for k, v in files.items()}, progress=False)
    result = table10_segmentation(study)
    rows = result.rows
    assert {"IoU P", "IoU QRS", "IoU T", "mIoU (P, QRS, T)"} <= set(rows.metric)
    neurokit = rows[rows.method == NEUROKIT]
    onset = neurokit.set_index("metric").loc["QRS onset error (ms)", "ours"]
    assert neurokit.details.str.contains(f"ECG_R_Onsets, ECG_R_Offsets; dwt gives no other QRS boundary): "
                                         f"mean error {onset:+.0f} ms at the onset", regex=False).all()
    trained = rows[rows.method != NEUROKIT]
    assert trained.details.str.contains(r"lr .*, epochs: \d+ run, best \d+ kept \(at most \d+, patience 10\)").all()
    write_table_files(study, result)
    curves = pd.read_csv(tmp_path / "out" / "table10_segmentation_curves.csv")
    assert list(curves.columns) == ["method", "protocol", "input"] + CURVE_COLUMNS
    assert len(curves.groupby(["method", "protocol"])) == 3 * 2 + 1  # rb, mb, random init x 2 protocols; U-Net
    assert (tmp_path / "out" / "figures" / "table10_segmentation_curves.png").stat().st_size > 10_000
