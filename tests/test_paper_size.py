"""The ``paper`` configuration end to end on CPU, at full model size on a handful of shipped records.

768 wide, 12 blocks, 16 heads, the paper's predictor and attention path: pretraining (rb and mb, two
steps each) and the Table 1 notebook (linear probes on PTB-XL and CPSC) run as a GPU user's first
``./run_all.sh --profile paper --only 02`` would, so that no shape, dtype or memory path of that run
is first executed on the user's GPU. The GPU check is bypassed explicitly (``ECGJEPA_ALLOW_CPU=1``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from ecgjepa_core.models.config import PAPER_MB, ModelConfig
from ecgjepa_core.models.ecgjepa import ECGJEPA
from ecgjepa_core.paths import REPO_ROOT, SAMPLE_DIR
from ecgjepa_core.study.profiles import ALLOW_CPU_ENV, paper

BATCH = 3
# Everything not listed runs at the paper profile's value (model, attention, learning rates, probe recipe).
OVERRIDES = {
    "pretrain.precision": "fp32",  # fp16 autocast + GradScaler need CUDA; scripts/gpu_check.sh runs fp16 there
    # The sample's pretraining corpus is 6 ECGs (its Ningbo and CODE-15 files): batch 3 gives 2 steps per
    # variant in one epoch (the warm-up must fit in it) and keeps the 768-wide model's memory under 3 GB.
    "pretrain.epochs": 1, "pretrain.warmup_epochs": 1, "pretrain.batch_rb": BATCH, "pretrain.batch_mb": BATCH,
    "evaluation.cpsc_folds": 2,  # the sample has CPSC g1 only (11 records): no g7 for the paper split
    "evaluation.bootstrap": 100,  # CIs are not what this test checks
}


@pytest.mark.slow
def test_paper_configuration_pretrains_and_evaluates_on_cpu(tmp_path):
    env = {**os.environ, ALLOW_CPU_ENV: "1", "ECGJEPA_DATA": str(SAMPLE_DIR), "ECGJEPA_RUNS": str(tmp_path / "runs"),
           "ECGJEPA_CACHE": str(tmp_path / "cache")}
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "ecgjepa_core.run", "--profile", "paper", "--only", "02",
                           "--results", str(results), "-p", "overrides", json.dumps(OVERRIDES)],
                          env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    paper_model = paper().model
    assert (paper_model.embed_dim, paper_model.depth, paper_model.num_heads) == (768, 12, 16)
    assert paper_model == ModelConfig(attention=paper_model.attention)  # the paper's sizes, predictor included
    for key in ("rb", "mb"):
        [run] = (tmp_path / "runs" / "paper").glob(f"{key}-*")
        summary = json.loads((run / "summary.json").read_text())
        assert summary["steps"] == math.ceil(summary["corpus_records"] / BATCH) >= 2
        assert {k: summary["model"][k] for k in ("embed_dim", "depth", "num_heads", "pred_embed_dim", "pred_depth",
                                                 "pred_num_heads", "attention")} == {
            k: getattr(paper_model, k) for k in ("embed_dim", "depth", "num_heads", "pred_embed_dim", "pred_depth",
                                                 "pred_num_heads", "attention")}
        assert math.isfinite(summary["final_loss"])

    table = pd.read_csv(results / "table1_linear.csv")
    ours = table[(table["method"] == "ECG-JEPA_mb") & (table["metric"] == "AUC")]
    assert set(ours["dataset"]) == {"PTB-XL", "CPSC2018"}
    assert ours["ours"].notna().all()


@pytest.mark.parametrize("attention", ["reference", "sdpa", "factorised"])
def test_fp16_autocast_runs_every_attention_path(attention):
    """The paper's fp16 runs on CUDA only; torch's CPU autocast has float16 too, so its dtype path (masks,
    softmax, loss, backward) is executed here for each attention implementation, at tiny width."""
    cfg = PAPER_MB.replace(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2,
                           attention=attention)
    torch.manual_seed(0)
    model = ECGJEPA(cfg)
    x = torch.randn(2, cfg.n_leads, cfg.n_samples, generator=torch.Generator().manual_seed(1))
    mask = model.sample_mask(torch.Generator().manual_seed(0))
    torch.manual_seed(2)  # the same stochastic-depth draws in both forwards
    with torch.no_grad():
        fp32 = model(x, mask).item()
    torch.manual_seed(2)
    with torch.autocast("cpu", dtype=torch.float16):
        loss = model(x, mask)
    loss.backward()
    assert loss.dtype == torch.float32
    assert abs(loss.item() - fp32) <= 1e-3 * abs(fp32)  # fp16 keeps 11 bits: ~5e-4 relative per rounding
    grads = [p.grad for p in model.student.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
