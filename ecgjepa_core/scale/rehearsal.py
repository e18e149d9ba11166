"""The rehearsal: ``paper`` and ``paper-eval`` run stage by stage on scale data, each stage measured from outside.

For each data size (``--fractions``; data written by ``scripts/make_scale_data.py`` into ``<work>/data-<F>``, or
generated here when absent) the stages run in order, each as its own process tree measured by
``tracker.measure``:

1. ``prepare <source>``: each source's cache from its raw files (``stages.py``);
2. ``reopen``: every cache found valid again, as each notebook's first use of a dataset does;
3. ``loader``: one epoch of the pretraining DataLoader without the model, ``--loader-workers`` workers;
4. ``bootstrap``: one table cell's CI at PTB-XL's test size, 71 statements;
5. ``paper NN``: every notebook of the series (``python -m ecgjepa_core.run --only NN``), the model made tiny by
   ``--overrides`` (the stage cost is then the data handling, not the model's arithmetic);
6. ``features``: frozen representations of every PTB-XL and CPSC record by the ``paper`` run's mb encoder;
7. ``paper-eval NN``: the series again with the encoders the ``paper`` run exported (``-p encoders``).

Everything runs under ``nice`` with ``ECGJEPA_ALLOW_CPU=1``; caches, runs and results go under ``<work>/run-<F>``
(removed first, so each size starts cold). The results merge into ``--json`` by fraction (a rerun replaces its
size), with the machine, the load average around every stage and the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ecgjepa_core.paths import REPO_ROOT
from ecgjepa_core.report.provenance import git_state
from ecgjepa_core.run import select_notebooks
from ecgjepa_core.scale.growth import write_report
from ecgjepa_core.scale.scaled_data import counts, make_scale_data
from ecgjepa_core.scale.tracker import measure

# The paper's model made tiny and its pretraining one epoch: what remains is the stages' data handling. Keys in
# the order the overrides apply (sorted): a width is set while the head count still divides it.
TINY_MODEL = {"model.attention": "factorised", "model.depth": 1, "model.embed_dim": 16, "model.num_heads": 1,
              "model.pred_depth": 1, "model.pred_embed_dim": 12, "model.pred_num_heads": 1,
              "pretrain.epochs": 1, "pretrain.warmup_epochs": 1, "pretrain.precision": "fp32",
              "evaluation.finetune_epochs": 1, "evaluation.supervised_epochs": 1,
              "evaluation.segmentation_epochs": [1, 1, 1]}
PREPARED = ("chapman_ningbo", "code15", "ptbxl", "cpsc2018", "ludb")
# (stage, group) measured before the notebooks, in order
DATA_STAGES = (*((f"prepare {source}", "preparation") for source in PREPARED), ("reopen", "preparation"),
               ("loader", "pretraining data"), ("bootstrap", "evaluation"))


def machine() -> dict:
    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory, 1), "platform": platform.platform(),
            "python": sys.version.split()[0], "note": "a machine shared with other work: wall seconds are noisy, "
                                                      "CPU seconds are the kernel's accounting of each stage"}


class Rehearsal:
    """The stages of one data size; :meth:`run` returns their measurements."""

    def __init__(self, fraction: float, work: Path, overrides: dict, loader_workers: int, nice: int):
        self.fraction, self.overrides, self.loader_workers = fraction, overrides, loader_workers
        self.data, self.root = work / f"data-{fraction:g}", work / f"run-{fraction:g}"
        self.prefix = ["nice", "-n", str(nice)] if nice else []
        self.log = self.root / "rehearsal.log"
        self.env = {**os.environ, "ECGJEPA_ALLOW_CPU": "1", "ECGJEPA_DATA": str(self.data),
                    "ECGJEPA_CACHE": str(self.root / "cache"), "ECGJEPA_RUNS": str(self.root / "runs"),
                    "PYTHONUNBUFFERED": "1"}
        self.stages: list[dict] = []

    def results(self, profile: str) -> Path:
        return self.root / f"results-{profile}"

    def _measure(self, stage: str, group: str, profile: str, command: list[str], records: int | None = None,
                 detail_file: Path | None = None) -> dict:
        disk = [self.root / "cache", self.root / "runs", self.results("paper"), self.results("paper-eval")]
        with open(self.log, "a") as f:
            f.write(f"\n===== {stage} ({profile}): {' '.join(command)}\n")
        cost = measure(self.prefix + command, env=self.env, cwd=REPO_ROOT, disk=disk, log=self.log)
        detail = json.loads(detail_file.read_text()) if detail_file and detail_file.is_file() else {}
        records = detail.get("records", records)
        row = {"stage": stage, "group": group, "profile": profile, "records": records, **cost.to_dict(),
               "detail": detail}
        if records and cost.wall_s:
            row["records_per_s"] = round(records / cost.wall_s, 1)
            row["records_per_cpu_s"] = round(records / max(cost.cpu_s, 1e-9), 1)
        self.stages.append(row)
        status = "ok" if cost.returncode == 0 else f"FAILED ({cost.returncode})"
        print(f"[rehearsal F={self.fraction:g}] {stage} ({profile}): {status}, {cost.wall_s:.0f} s wall, "
              f"{cost.cpu_s:.0f} s CPU, peak PSS {cost.peak_pss_mib:.0f} MiB", flush=True)
        if cost.returncode:
            raise RuntimeError(f"stage {stage} failed; log {self.log}:\n{cost.log_tail}")
        return row

    def _stage(self, name: str, group: str, *args: str) -> dict:
        out = Path(tempfile.mkstemp(prefix="stage-", suffix=".json", dir=self.root)[1])
        command = [sys.executable, "-m", "ecgjepa_core.scale.stages", name.split()[0], "--profile", "paper",
                   "--overrides", json.dumps(self.overrides), "--out", str(out), *args]
        try:
            return self._measure(name, group, "paper", command, detail_file=out)
        finally:
            out.unlink(missing_ok=True)

    def _notebook(self, profile: str, notebook: str, records: int) -> dict:
        """Notebook ``notebook`` (its file stem) of ``profile`` run alone; paper-eval reads the paper run's
        exported encoders."""
        extra = ["-p", "encoders", self.exported] if profile == "paper-eval" else []
        command = [sys.executable, "-m", "ecgjepa_core.run", "--profile", profile, "--only", notebook[:2],
                   "--results", str(self.results(profile)), "-p", "overrides", json.dumps(self.overrides), *extra]
        return self._measure(f"{profile} {notebook}", "notebook", profile, command, records=records)

    def _series(self, profile: str) -> None:
        downstream = self.downstream_records
        for notebook in select_notebooks(None):
            self._notebook(profile, notebook.stem, downstream)

    @property
    def exported(self) -> str:
        encoders = self.results("paper") / "encoders"
        return f"rb={encoders / 'rb.pt'},mb={encoders / 'mb.pt'}"

    @property
    def downstream_records(self) -> int:
        return sum(s["records"] for s in self.stages if s["stage"] in ("prepare ptbxl", "prepare cpsc2018"))

    def rerun(self, names: list[str], size: dict) -> dict:
        """``size`` (this fraction's entry of the JSON) with the stages ``names`` (data stages or notebooks)
        measured again in the existing run folder, e.g. after a change to how one is measured or where another
        process shared the machine with it."""
        for name in names:
            earlier = next(s for s in size["stages"] if s["stage"] == name)
            if earlier["group"] == "notebook":
                self._notebook(earlier["profile"], name.split(" ", 1)[1], earlier["records"])
            else:
                self._stage(name, earlier["group"], *self._stage_args(name))
        fresh = {s["stage"]: s for s in self.stages}
        return {**size, "stages": [fresh.get(s["stage"], s) for s in size["stages"]],
                "remeasured": {"stages": names, "git": git_state()["commit"]}}

    def _stage_args(self, name: str) -> list[str]:
        kind, _, source = name.partition(" ")
        return {"prepare": ["--source", source], "loader": ["--workers", str(self.loader_workers)],
                "features": ["--encoders", self.exported]}.get(kind, [])

    def run(self) -> dict:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        generated = None
        if not (self.data / "SCALE_DATA.json").is_file():
            generated = make_scale_data(self.data, self.fraction)
        data = json.loads((self.data / "SCALE_DATA.json").read_text())
        if data["fraction"] != self.fraction:
            raise ValueError(f"{self.data} holds fraction {data['fraction']}, not {self.fraction}")
        for name, group in DATA_STAGES:
            self._stage(name, group, *self._stage_args(name))
        self._series("paper")
        self._stage("features", "evaluation", *self._stage_args("features"))
        self._series("paper-eval")
        return {"fraction": self.fraction, "git": git_state()["commit"], "counts": counts(self.fraction),
                "data": {k: v for k, v in data.items() if k != "differences"}, "generated_here": generated is not None,
                "disk_mib": {"data": round(sum(d.get("bytes", 0) for d in data["datasets"].values()) / 2**20, 1),
                             **{p.name: round(sum(f.stat().st_blocks * 512 for f in p.rglob("*") if f.is_file())
                                              / 2**20, 1) for p in sorted(self.root.iterdir()) if p.is_dir()}},
                "stages": self.stages}


def merge(path: Path, size: dict, overrides: dict, command: list[str]) -> dict:
    """``path``'s record with ``size`` in place of any earlier run of the same fraction."""
    record = json.loads(path.read_text()) if path.is_file() else {}
    sizes = [s for s in record.get("sizes", []) if s["fraction"] != size["fraction"]] + [size]
    record.update({"written_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "git": git_state(),
                   "machine": machine(), "overrides": overrides, "command": " ".join(command),
                   "sizes": sorted(sizes, key=lambda s: s["fraction"])})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=str) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fractions", default="0.01,0.03,0.1", help="comma-separated data sizes (share of the real)")
    ap.add_argument("--work", type=Path, help="folder for data, caches, runs and results (large)")
    ap.add_argument("--json", type=Path, default=REPO_ROOT / "results" / "scale" / "scale.json")
    ap.add_argument("--loader-workers", type=int, default=0, help="DataLoader workers of the loader stage "
                                                                   "(the pretraining loop's default: 0)")
    ap.add_argument("--nice", type=int, default=5)
    ap.add_argument("--stages", help="measure only these stages again (comma-separated, e.g. 'loader,paper-eval "
                                     "12_references') in the existing run folders; the others keep their measurements")
    ap.add_argument("--report", action="store_true", help="only write the slopes, projection and figure from --json")
    args = ap.parse_args(argv)
    if args.report:
        for path in write_report(args.json):
            print(path)
        return 0
    if args.work is None:
        ap.error("--work is required to run the stages")
    command = ["python", "scripts/rehearse_scale.py", *(argv or sys.argv[1:])]
    for fraction in (float(f) for f in args.fractions.split(",")):
        rehearsal = Rehearsal(fraction, args.work, TINY_MODEL, args.loader_workers, args.nice)
        if args.stages:
            earlier = {s["fraction"]: s for s in json.loads(args.json.read_text())["sizes"]}[fraction]
            size = rehearsal.rerun(args.stages.split(","), earlier)
        else:
            size = rehearsal.run()
        merge(args.json, size, TINY_MODEL, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
