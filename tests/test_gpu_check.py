"""``python -m ecgjepa_core.gpu_check --quick --device cpu``: the GPU check's code at tiny size on CPU."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ecgjepa_core.gpu_check import compare_losses
from ecgjepa_core.paths import REPO_ROOT


def test_quick_check_runs_every_part_and_writes_one_json(tmp_path):
    out = tmp_path / "gpu_check.json"
    done = subprocess.run([sys.executable, "-m", "ecgjepa_core.gpu_check", "--quick", "--device", "cpu",
                           "--json", str(out)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["ok"] is True
    assert {"environment", "golden", "precision", "loss_comparison", "bench", "model", "seconds"} <= set(result)
    assert result["golden"]["ok"] and "passed" in result["golden"]["summary"]
    fp32 = result["precision"]["fp32"]
    assert fp32["steps"] == 4 and len(fp32["losses"]) == 4 and fp32["ok"]
    assert set(result["precision"]) == {"fp32"}  # CPU: fp32 only
    bench = result["bench"]
    assert bench["equality"]["fp32"]["loss_abs_diff"] <= 1e-5
    assert bench["reference"]["train_samples_per_s"] > 0 and bench["default"]["features_samples_per_s"] > 0


def test_loss_comparison_flags_a_drifting_or_diverging_precision():
    fp32 = [1.0] * 10
    runs = {"fp32": {"losses": fp32}, "bf16": {"losses": [1.02] * 10}, "fp16": {"losses": [1.0] * 8 + [1.2, 1.2]}}
    result = compare_losses(runs, rtol=0.05)
    assert result["bf16"]["ok"] and result["bf16"]["rel_diff"] == pytest.approx(0.02)
    assert not result["fp16"]["ok"] and result["fp16"]["rel_diff"] == pytest.approx(0.2)  # last fifth: 1.2
    assert not result["ok"]
    runs["fp16"]["losses"] = [1.0] * 9 + [float("nan")]
    assert not compare_losses(runs)["fp16"]["all_finite"]
