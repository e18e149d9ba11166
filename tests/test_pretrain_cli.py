"""``python -m ecgjepa_core.pretrain``: clear errors, and a torchrun run that the notebooks reuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ecgjepa_core.pretrain import main
from ecgjepa_core.study.profiles import ALLOW_CPU_ENV

REPO = Path(__file__).resolve().parent.parent
# One epoch and one pretraining seed instead of the smoke profile's two: the same values go to the command and
# to the notebook.
OVERRIDES = json.dumps({"pretrain.epochs": 1, "pretrain.seeds": 1})


def _fails(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as err:
        main(argv)
    return str(err.value)


def test_unknown_variant_lists_the_valid_keys():
    message = _fails(["--profile", "smoke", "--variant", "xb"])
    assert "unknown variant 'xb'" in message
    assert "rb, rb-s1, mb, mb-s1," in message and "mb-nocropa" in message and "weimann-s1" in message


def test_help_lists_every_profiles_run_keys(capsys):
    """The keys come from the code (a profile's ablation runs are named by their seed: rb-nocropa-s1 in cpu-study,
    rb-nocropa in paper, whose ablations run one seed)."""
    from ecgjepa_core.pretrain import variant_keys

    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for profile in ("smoke", "cpu-study", "paper"):
        keys = variant_keys(profile)
        assert keys and f"{profile}: {', '.join(keys)}" in text
    assert "rb-nocropa-s1" in variant_keys("cpu-study") and "rb-nocropa" in variant_keys("paper")
    assert variant_keys("paper-eval") == [] and "paper-eval: (none" in text


def test_bad_overrides_name_the_problem():
    unknown = _fails(["--profile", "smoke", "--variant", "mb", "-p", "overrides", '{"pretrain.epoch": 1}'])
    assert "pretrain.epoch" in unknown and "pretrain.epochs" in unknown  # the valid keys are listed
    wrong_type = _fails(["--profile", "smoke", "--variant", "mb", "-p", "overrides", '{"pretrain.epochs": "two"}'])
    assert "pretrain.epochs" in wrong_type and "expected int" in wrong_type
    assert "not a pretraining parameter" in _fails(["--profile", "smoke", "--variant", "mb", "-p", "epochs", "1"])


def test_fp16_profile_on_cpu_fails_before_reading_data(monkeypatch):
    monkeypatch.setenv(ALLOW_CPU_ENV, "1")
    monkeypatch.setenv("ECGJEPA_DATA", "/nonexistent")  # reading any data would fail differently
    message = _fails(["--profile", "paper", "--variant", "mb", "--device", "cpu"])
    assert "fp16" in message and "pretrain.precision" in message


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (mtime in ns, bytes)} of every file under ``folder``."""
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_torchrun_run_is_reused_by_the_notebooks(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ECGJEPA_RUNS": str(tmp_path / "runs"),
           "ECGJEPA_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cli = ["-m", "ecgjepa_core.pretrain", "--profile", "smoke", "-p", "overrides", OVERRIDES]

    def run(cmd: list[str]) -> subprocess.CompletedProcess:
        done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    ddp = run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               *cli, "--variant", "mb"])
    mb_dir = Path(ddp.stdout.strip())
    assert ddp.stdout.count(str(mb_dir)) == 1  # only rank 0 reports
    summary = json.loads((mb_dir / "summary.json").read_text())
    assert summary["variant"] == "mb" and summary["epochs"] == 1
    for variant in ("rb", "weimann"):  # notebook 01 also needs these; one process is enough
        run([sys.executable, *cli, "--variant", variant])

    before = _files(tmp_path / "runs")
    assert {p.split("/")[1] for p in before} >= {mb_dir.name}
    run([sys.executable, "-m", "ecgjepa_core.run", "--profile", "smoke", "--only", "01",
         "--results", str(tmp_path / "results"), "-p", "overrides", OVERRIDES])
    assert _files(tmp_path / "runs") == before  # no new run folder, no file rewritten: nothing trained
    table = pd.read_csv(tmp_path / "results" / "pretraining.csv").set_index("variant")
    assert table.loc["mb", "run"] == mb_dir.name and table.loc["mb", "steps"] == summary["steps"]
