"""The rehearsal's measuring tools: the process-tree sampler, the stage runner, slopes and projections."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.scale.growth import growth, linear_to_full, slope, write_report
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
