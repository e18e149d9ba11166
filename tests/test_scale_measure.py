"""The rehearsal's measuring tools: the process-tree sampler, the stage runner, slopes and projections."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.scale.growth import growth, linear_to_full, slope, stage_table, write_report
from ecgjepa_core.scale.tracker import measure

ALLOCATE = """
import os, sys, time, numpy as np
child = os.fork()
x = np.ones((int(sys.argv[1]) * 2**20 // 8,))  # both processes touch their own copy
time.sleep(0.6)
open(sys.argv[2] + f"/{os.getpid()}.bin", "wb").write(b"0" * 2**20)
if child: os.waitpid(child, 0)
else: os._exit(0)
"""


def test_measure_sees_the_whole_process_tree(tmp_path):
    cost = measure([sys.executable, "-c", ALLOCATE, "150", str(tmp_path)], disk=[tmp_path], interval=0.05)
    assert cost.returncode == 0
    assert cost.peak_anon_mib >= 2 * 140  # parent and forked child each hold 150 MiB of their own
    assert cost.peak_rss_mib >= cost.peak_anon_mib * 0.9 and cost.peak_pss_mib >= cost.peak_anon_mib
    assert cost.disk_written_mib == pytest.approx(2.0, abs=0.1)
    assert cost.cpu_s > 0 and cost.wall_s >= 0.6


def test_a_failing_command_keeps_its_output(tmp_path):
    cost = measure([sys.executable, "-c", "raise SystemExit('broken on purpose')"], log=tmp_path / "log")
    assert cost.returncode == 1 and "broken on purpose" in cost.log_tail


def test_slopes_and_the_projection_to_full_size():
    x = np.array([0.01, 0.03, 0.1])
    assert slope(x, 5 * x) == pytest.approx(1.0) and slope(x, 2 * x**2) == pytest.approx(2.0)
    assert math.isnan(slope([0.1], [1.0]))
    assert linear_to_full(x, 100 + 1000 * x) == pytest.approx(1100)
    assert linear_to_full(x, np.array([5.0, 4.0, 3.0])) == 3.0  # never below the largest measured


def _stage(stage, cpu, anon, group="preparation", profile="paper"):
    return {"stage": stage, "group": group, "profile": profile, "records": 1, "cpu_s": cpu, "wall_s": cpu,
            "peak_rss_mib": anon, "peak_pss_mib": anon, "peak_anon_mib": anon, "disk_written_mib": 0.0}


def test_growth_flags_superlinear_stages_and_writes_the_report(tmp_path):
    sizes = [{"fraction": f, "stages": [_stage("linear", 100 * f, 300), _stage("quadratic", 1000 * f**2, 300 + 900 * f),
                                        _stage("paper 02", 50 * f, 400, group="notebook")]}
             for f in (0.01, 0.03, 0.1)]
    (tmp_path / "scale.json").write_text(json.dumps({"sizes": sizes}))
    paths = write_report(tmp_path / "scale.json")
    summary = pd.read_csv(paths[0]).set_index("stage")
    assert summary.loc["linear", "cpu_s_slope"] == pytest.approx(1.0, abs=1e-3)
    assert bool(summary.loc["quadratic", "superlinear"]) and not bool(summary.loc["linear", "superlinear"])
    assert summary.loc["quadratic", "anon_ratio_last"] == pytest.approx(390 / 327, rel=1e-3)
    assert "⚠" in paths[1].read_text() and paths[2].stat().st_size > 10_000
    quadratic = next(line for line in paths[1].read_text().splitlines() if "| quadratic |" in line)
    assert "| 0 | 1 | 10 |" in quadratic  # CPU s at each size: 1000 F^2


def _size(fraction):
    """A rehearsal size whose every cost is linear in ``fraction`` (no fixed part)."""
    stage = lambda name, group, profile="paper", **detail: {  # noqa: E731
        **_stage(name, 1000 * fraction, 2000 * fraction, group, profile), "disk_written_mib": 100 * fraction,
        "detail": detail}
    return {"fraction": fraction,
            "data": {"datasets": {"code15": {"records": 10, "bytes": 40e9 * fraction},
                                  "ptbxl": {"records": 10, "bytes": 10e9 * fraction},
                                  "ludb": {"records": "copied unchanged", "bytes": 1e6}}},
            "stages": [stage("prepare code15", "preparation", phases_s={"index": 1.0, "records": 3.0}),
                       stage("loader", "pretraining data", records_per_s_by_epoch=[400.0, 500.0]),
                       stage("paper 10_kim_vs_weimann", "notebook"),
                       stage("paper-eval 02_table1_linear", "notebook", "paper-eval")]}


def test_what_the_paper_profile_needs_at_full_size(monkeypatch):
    from ecgjepa_core.scale.growth import GPU_RATE_H100, needs

    monkeypatch.setenv("ECGJEPA_ALLOW_CPU", "1")
    record = {"machine": {"cores": 2}, "sizes": [_size(0.03), _size(0.1)]}
    bench = {"machine": {"threads": 2}, "configs": {"paper": {"features": {"default": {"samples_per_s": 2.0}}}}}
    passes = {"ptbxl_records": 100,
              "attentive_head": {"train_step_s": 3.6, "record_s": 0.01, "batch": 128, "threads": 1},
              "notebooks": {"02_table1_linear": {"inference": 200, "training": 0},
                            "10_kim_vs_weimann": {"inference": 100, "training": 0, "probe_steps": 1000,
                                                  "probe_inference": 50},
                            "11_segmentation": {"inference": 0, "training": 600}}}
    table = needs(record, growth(stage_table(record)), bench, passes).set_index("need")["at F = 1"]
    assert table["raw datasets on disk"] == "50 GB (CODE-15 40 GB)"  # bytes at F = 0.1 x 10, LUDB left out
    assert table["preparation: CPU"] == f"{1000 / 3600:.1f} core-hours"
    assert table["peak RAM, data stages"].startswith(f"{2000 / 1024:.1f} GiB")
    assert table["pretraining loader"].startswith("500 ECGs/s per core (first epoch 400)")
    assert table["loader headroom"].startswith(f"{4 * 500 / GPU_RATE_H100:.1f}x with 4 workers")
    # PTB-XL grows 21,799 / 100 times, LUDB's 200 records (notebook 11) do not; the heads' steps are fixed
    features_h = (200 + 100) * 217.99 / 2.0 / 3600
    tuning_h, heads_h = 600 / (2.0 / 3) / 3600, (1000 * 3.6 + 50 * 217.99 * 0.01) / 3600
    line = table["paper-eval on CPU: the paper-size models"]
    assert line == (f"{features_h + tuning_h + heads_h:,.0f} h on 2 cores ({features_h:,.0f} h features, "
                    f"{tuning_h:,.0f} h fine-tuning, {heads_h:,.0f} h attentive heads (in 1 thread))")
