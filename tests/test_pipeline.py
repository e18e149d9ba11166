"""End to end: ./run_all.sh's smoke profile writes every table, figure, the report and the manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from ecgjepa_core.paths import REPO_ROOT
from ecgjepa_core.report.markdown import TABLE_ORDER


@pytest.mark.slow
def test_smoke_profile_end_to_end(tmp_path):
    env = {**os.environ, "ECGJEPA_CACHE": str(tmp_path / "cache"), "ECGJEPA_RUNS": str(tmp_path / "runs")}
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "ecgjepa_core.run", "--profile", "smoke", "--results", str(results)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    for name in TABLE_ORDER:
        assert (results / f"{name}.csv").exists() and (results / f"{name}.md").exists(), name
    linear = pd.read_csv(results / "table1_linear.csv")
    mb = linear[(linear.method == "ECG-JEPA_mb") & (linear.dataset == "PTB-XL") & (linear.task == "multi-label")
                & (linear.metric == "AUC")]
    assert (mb.paper == 0.912).all() and mb.ours.between(0, 1).all() and mb.protocol.str.contains("seeds").all()
    assert {"Random init", "ECG-JEPA_rb", "ECG-JEPA_mb"} <= set(linear.method)
    assert "Supervised" in set(pd.read_csv(results / "table2_finetune.csv").method)
    figures = {p.name for p in (results / "figures").glob("*.png")}
    assert {"masking_strategies.png", "cropa_mask.png", "pretraining_curves.png", "roc_mb_ptbxl_multilabel.png",
            "embedding_mb_ptbxl.png", "table1_linear_ours_vs_paper.png"} <= figures
    report = (results / "REPORT.md").read_text()
    assert "Deviations from the paper" in report and "Pretraining beats random initialisation" in report
    assert report.count("Paired difference on the first seed's") == 10 and "Notebooks 00–09 took" in report
    assert len(pd.read_csv(results / "pretraining_runs.csv")) == 12
    manifest = json.loads((results / "manifest.json").read_text())
    assert [n["status"] for n in manifest["notebooks"]] == ["ok"] * 11 and manifest["complete"]
    assert manifest["data"]["ptbxl_subset"]["source_fingerprint"]
    assert len(list((results / "notebooks").glob("*.ipynb"))) == 11
