"""How each stage's cost grows with the data: log-log slopes, the projection to the full datasets, a figure.

From the rehearsal's measurements (``results/scale/scale.json``, one entry per data size F):

* ``slope``: least-squares slope of log(cost) against log(F) over all sizes, and ``slope_last`` between the two
  largest: 1 is linear in the records; fixed costs (imports, the model, LUDB's 200 records) pull it below 1
  at small F, so ``slope_last`` is the better guide to what follows;
* the projection to F = 1: ``cost(F_max) + (F=1 − F_max) × Δcost/ΔF`` of the two largest sizes (a linear
  extrapolation; a stage with ``slope_last`` above 1.15 is flagged, its linear projection an underestimate).
  Time is projected in CPU seconds (the kernel's accounting, independent of how busy the shared machine was),
  memory as the stage's peak anonymous PSS (what RAM must hold; file pages of memory-mapped caches can be
  dropped) and its peak PSS.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.paths import REPO_ROOT

SUPERLINEAR = 1.15
METRICS = {"cpu_s": "CPU s", "wall_s": "wall s", "peak_pss_mib": "peak PSS MiB", "peak_anon_mib": "peak anon MiB",
           "disk_written_mib": "disk MiB"}


def stage_table(record: dict) -> pd.DataFrame:
    """One row per (size, profile, stage) with the measured costs."""
    rows = []
    for size in record["sizes"]:
        for stage in size["stages"]:
            rows.append({"fraction": size["fraction"], "profile": stage["profile"], "stage": stage["stage"],
                         "group": stage["group"], "records": stage.get("records"),
                         **{m: stage[m] for m in METRICS}})
    return pd.DataFrame(rows)


def slope(x: Iterable[float], y: Iterable[float]) -> float:
    """Least-squares slope of log y on log x (NaN with fewer than two positive points)."""
    x, y = np.asarray(list(x), float), np.asarray(list(y), float)
    keep = (x > 0) & (y > 0)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def linear_to_full(x: np.ndarray, y: np.ndarray) -> float:
    """y at F = 1, extrapolated linearly from the two largest sizes (never below the largest measured)."""
    (x0, x1), (y0, y1) = x[-2:], y[-2:]
    return float(max(y1, y1 + (1.0 - x1) * (y1 - y0) / (x1 - x0)))


def growth(table: pd.DataFrame) -> pd.DataFrame:
    """Per (profile, stage): the cost at each size, slopes, the F = 1 projection and the memory ratio of the two
    largest sizes (the rehearsal's criterion: at most 1.5)."""
    out = []
    for (profile, stage), rows in table.sort_values("fraction").groupby(["profile", "stage"], sort=False):
        x = rows["fraction"].to_numpy(float)
        row = {"profile": profile, "stage": stage, "group": rows["group"].iloc[0]}
        for metric in METRICS:
            y = rows[metric].to_numpy(float)
            row |= {f"{metric}@{f:g}": v for f, v in zip(x, y)}
            if len(x) >= 2:
                row[f"{metric}_slope"] = slope(x, y)
                row[f"{metric}_slope_last"] = slope(x[-2:], y[-2:])
                row[f"{metric}_at_full"] = linear_to_full(x, y)
        if len(x) >= 2:
            row["anon_ratio_last"] = rows["peak_anon_mib"].iloc[-1] / max(rows["peak_anon_mib"].iloc[-2], 1e-9)
            row["pss_ratio_last"] = rows["peak_pss_mib"].iloc[-1] / max(rows["peak_pss_mib"].iloc[-2], 1e-9)
            row["superlinear"] = row["cpu_s_slope_last"] > SUPERLINEAR
        out.append(row)
    return pd.DataFrame(out)


def growth_markdown(summary: pd.DataFrame, fractions: list[float]) -> str:
    """The measured table: CPU seconds and peak anonymous PSS at each size, slopes, F = 1 projection."""
    header = (["profile", "stage"] + [f"CPU s @ {f:g}" for f in fractions] + ["slope (last)", "CPU s @ 1"]
              + [f"anon MiB @ {f:g}" for f in fractions] + ["ratio last", "anon MiB @ 1"])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in summary.to_dict("records"):  # not itertuples: it renames the "cpu_s@0.1" columns to _2, _3, ...
        cells = [r["profile"], r["stage"]]
        cells += [_num(r.get(f"cpu_s@{f:g}")) for f in fractions]
        cells += [f"{_num(r.get('cpu_s_slope'), 2)} ({_num(r.get('cpu_s_slope_last'), 2)})"
                  + (" ⚠" if r.get("superlinear") else ""), _num(r.get("cpu_s_at_full"))]
        cells += [_num(r.get(f"peak_anon_mib@{f:g}")) for f in fractions]
        cells += [_num(r.get("anon_ratio_last"), 2), _num(r.get("peak_anon_mib_at_full"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _num(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def plot_growth(table: pd.DataFrame, path: Path, top: int = 7) -> Path:
    """CPU seconds (three panels: data stages, ``paper`` notebooks, ``paper-eval`` notebooks) and peak anonymous
    PSS of every stage against the data size, log-log, with a slope-1 guide; the ``top`` costliest stages of a
    panel at the largest size are labelled, the others drawn thin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("data stages: CPU s", table["group"] != "notebook", "cpu_s"),
              ("paper notebooks: CPU s", (table["group"] == "notebook") & (table["profile"] == "paper"), "cpu_s"),
              ("paper-eval notebooks: CPU s", (table["group"] == "notebook") & (table["profile"] == "paper-eval"),
               "cpu_s"),
              ("every stage: peak anonymous PSS (MiB)", table["group"].notna(), "peak_anon_mib")]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    largest = table["fraction"].max()
    for ax, (title, mask, metric) in zip(axes.flat, panels):
        part = table[mask]
        ranked = (part[part["fraction"] == largest].sort_values(metric, ascending=False)
                  .apply(lambda r: (r["profile"], r["stage"]), axis=1).tolist())
        for key, rows in part.sort_values("fraction").groupby(["profile", "stage"], sort=False):
            shown = key in ranked[:top]
            label = key[1] if metric == "cpu_s" else f"{key[0]}: {key[1]}"
            ax.plot(rows["fraction"], rows[metric], marker="o" if shown else None, lw=1.6 if shown else 0.6,
                    alpha=1.0 if shown else 0.45, color=None if shown else "grey",
                    label=label.replace("paper ", "").replace("paper-eval ", "") if shown else None)
        fractions = np.array(sorted(part["fraction"].unique()))
        if len(fractions):
            base = part[part["fraction"] == fractions[0]][metric].median()
            ax.plot(fractions, base * fractions / fractions[0], ls=":", color="black", lw=1, label="slope 1")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("data size F (share of the full datasets)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.25)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Paper profile rehearsed on CPU (tiny model, 1 epoch): cost of each stage against data size", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# What a GPU consumes at paper size. Published: 100 epochs over the 174,140 pretraining ECGs in 22 hours on one RTX
# 3090 (docs/method_kim.md §1, later revision) = 220 ECGs/s. No GPU number of this project exists yet. An H100 is
# bounded by scaling that rate with the dense fp16 tensor peaks (H100 SXM 989 TFLOPS; RTX 3090 with fp32
# accumulation, as autocast uses, 71 TFLOPS) at the 3090's achieved share of its peak.
PUBLISHED_GPU_RATE = 174_140 * 100 / (22 * 3600)
H100_OVER_RTX3090 = 989.0 / 71.0
GPU_RATE_H100 = PUBLISHED_GPU_RATE * H100_OVER_RTX3090
PAPER_WIDTH = 768
TOKENS = 400                 # 8 leads x 50 patches of Kim's encoder
FULL = {"ptbxl": 21_799, "cpsc2018": 6_877, "chapman_ningbo": 45_152, "code15": 345_779}


def paper_model_bytes() -> dict[str, int]:
    """Bytes of the paper-size files of one pretraining run: the resumable state (student, teacher, predictor and
    AdamW's two moments of the trained ones) and one student export (float32), counted on the model itself."""
    from ecgjepa_core.models.config import PAPER_MB
    from ecgjepa_core.models.ecgjepa import ECGJEPA

    model = ECGJEPA(PAPER_MB)
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    trained = count(model.student) + count(model.predictor)
    return {"state": 4 * (count(model) + 2 * trained), "encoder": 4 * count(model.student),
            "student_parameters": count(model.student)}


def paper_runs() -> tuple[int, int]:
    """(pretraining runs the ``paper`` series makes, epochs of each) from the registry."""
    import os

    from ecgjepa_core.study.profiles import ALLOW_CPU_ENV, paper
    from ecgjepa_core.study.registry import pretrained_variants
    from ecgjepa_core.study.study import Study

    before = os.environ.get(ALLOW_CPU_ENV)
    os.environ[ALLOW_CPU_ENV] = "1"  # the study is only listed, nothing runs
    try:
        study = Study(paper(), output_dir="/nonexistent", device="cpu")
        return len(pretrained_variants(study)), study.profile.pretrain.epochs
    finally:
        if before is None:
            del os.environ[ALLOW_CPU_ENV]
        else:
            os.environ[ALLOW_CPU_ENV] = before


def _full(summary: pd.DataFrame, stages, metric: str, profile: str | None = None) -> float:
    rows = summary[summary["stage"].isin(stages) & (summary["profile"] == profile if profile else True)]
    return float(rows[f"{metric}_at_full"].sum())


def needs(record: dict, summary: pd.DataFrame, bench: dict | None = None, passes: dict | None = None) -> pd.DataFrame:
    """"What the paper profile needs" at F = 1: one row per need, its value and how it was obtained."""
    sizes = record["sizes"]
    last = sizes[-1]
    fraction, cores = last["fraction"], record["machine"]["cores"]
    rows = []

    def add(need: str, value: str, basis: str) -> None:
        rows.append({"need": need, "at F = 1": value, "from": basis})

    data_gb = {name: d["bytes"] / fraction / 1e9 for name, d in last["data"]["datasets"].items()
               if isinstance(d.get("records"), int)}
    add("raw datasets on disk", f"{sum(data_gb.values()):.0f} GB (CODE-15 {data_gb['code15']:.0f} GB)",
        f"bytes of the F = {fraction:g} scale data x {1 / fraction:g} (official formats; CODE-15 as uncompressed HDF5)")
    prep = [s for s in summary["stage"] if s.startswith("prepare ")]
    add("prepared caches on disk", f"{_full(summary, prep, 'disk_written_mib') / 1024:.1f} GiB",
        "cache growth measured at each size, extrapolated linearly")
    files, (runs, epochs) = paper_model_bytes(), paper_runs()
    exports = epochs // 5  # an encoder export every save_every = 5 epochs
    per_run = 2 * files["state"] + exports * files["encoder"]
    add("pretraining run folders (paper width)", f"{runs * per_run / 1e9:.0f} GB ({runs} runs x {per_run / 1e9:.1f} GB)",
        f"per run: the resumable state and its previous copy ({files['state'] / 1e9:.1f} GB each) and {exports} "
        f"student exports ({files['encoder'] / 1e6:.0f} MB each), float32 at the paper's size; the runs the "
        "registry lists for the series")
    prep_cpu = _full(summary, prep, "cpu_s")
    index_share = _index_share(sizes[-1])
    add("preparation: CPU", f"{prep_cpu / 3600:.1f} core-hours",
        "CPU seconds of every source's cache build (index, source hashing, records through the recipe), linear")
    add("preparation: wall on 16 cores", f"{(prep_cpu * index_share + prep_cpu * (1 - index_share) / 16) / 3600:.1f} h",
        f"the index and hashing ({index_share:.0%} of the CPU at F = {fraction:g}) run in one process, the records "
        "on every core")
    data_stages = summary[summary["group"] != "notebook"]
    worst = data_stages.loc[data_stages["peak_anon_mib_at_full"].idxmax()]
    notebooks = summary[summary["group"] == "notebook"]
    worst_nb = notebooks.loc[notebooks["peak_anon_mib_at_full"].idxmax()]
    add("peak RAM, data stages", f"{worst['peak_anon_mib_at_full'] / 1024:.1f} GiB ({worst['stage']})",
        "peak anonymous PSS of the stage's process tree, extrapolated linearly from the two largest sizes")
    add("peak RAM, notebooks (tiny model)", f"{worst_nb['peak_anon_mib_at_full'] / 1024:.1f} GiB "
        f"({worst_nb['profile']} {worst_nb['stage'].split(' ', 1)[1]})", "as above")
    table9 = FULL["ptbxl"] * TOKENS * (PAPER_WIDTH - 16) * 4  # held once: the probe's parts are TokenRows of it
    tiny = notebooks[notebooks["stage"].str.endswith("10_kim_vs_weimann")]["peak_anon_mib_at_full"].max()
    add("peak RAM, Table 9 at paper width", f"{(tiny * 2**20 + table9) / 2**30:.0f} GiB",
        f"the tiny model's projection + the frozen tokens of every PTB-XL record ({TOKENS} x {PAPER_WIDTH} float32 "
        f"instead of x 16), held once while the attentive probe reads them")
    loader = _loader_rates(last)
    if loader:
        add("pretraining loader", f"{loader[-1]:,.0f} ECGs/s per core (first epoch {loader[0]:,.0f}); "
            f"4 workers ~{4 * loader[-1]:,.0f}", f"one epoch of the DataLoader over the F = {fraction:g} corpus "
            "without the model, in one process")
    gpu = GPU_RATE_H100
    add("GPU consumption at paper size", f"{PUBLISHED_GPU_RATE:.0f} ECGs/s (RTX 3090, published); up to "
        f"~{gpu:,.0f} (H100, derived)", "100 epochs x 174,140 ECGs in 22 h (paper); H100 / 3090 dense fp16 peaks "
        f"{H100_OVER_RTX3090:.1f}x at the same share of peak. Not yet measured on a GPU")
    if loader:
        serial = 1 / (1 / gpu + 1 / loader[-1])
        add("loader headroom", f"{4 * loader[-1] / gpu:.1f}x with 4 workers; in-process: GPU busy "
            f"{serial / gpu:.0%} of the time", "loading overlaps the GPU step only in worker processes")
    eval_cpu = _full(summary, notebooks[notebooks["profile"] == "paper-eval"]["stage"], "cpu_s", "paper-eval")
    add("paper-eval on CPU: data handling", f"{eval_cpu / 3600:.1f} core-hours",
        "CPU seconds of the paper-eval notebooks with the tiny encoder, linear")
    if bench and passes:
        add(*_paper_eval_arithmetic(bench, passes))
    return pd.DataFrame(rows)


def _index_share(size: dict) -> float:
    """Share of the cache builds' CPU spent in the single-process part (index and source hashing)."""
    single = total = 0.0
    for stage in size["stages"]:
        if stage["stage"].startswith("prepare "):
            phases = stage["detail"].get("phases_s", {})
            single += phases.get("index", 0) + phases.get("index_and_fingerprint", 0)
            total += phases.get("index", 0) + phases.get("index_and_fingerprint", 0) + phases.get("records", 0)
    return single / total if total else math.nan


def _loader_rates(size: dict) -> list[float]:
    stage = next((s for s in size["stages"] if s["stage"] == "loader"), None)
    if stage is None:
        return []
    detail = stage["detail"]
    return detail.get("cpu_records_per_s_by_epoch") or detail.get("records_per_s_by_epoch", [])


def _paper_eval_arithmetic(bench: dict, passes: dict) -> tuple[str, str, str]:
    """The paper-size models' arithmetic of a paper-eval series on this CPU: records through the encoder (counted
    at a small size, scaled to F = 1 except LUDB's fixed 200 records) over the bench's paper-size throughput, and
    Table 9's attentive heads (a fixed number of training steps; their evaluated records scaled) at the head's
    paper-width cost (``passes.attentive_seconds``)."""
    features = bench["configs"]["paper"]["features"]["default"]["samples_per_s"]
    training = features / 3  # a fine-tuning step: forward and backward, ~3 forwards
    scale = FULL["ptbxl"] / passes["ptbxl_records"]
    notebooks = passes["notebooks"]
    grow = {nb: 1 if nb.startswith("11_") else scale for nb in notebooks}
    inference = sum(n["inference"] * grow[nb] for nb, n in notebooks.items())
    trained = sum(n["training"] * grow[nb] for nb, n in notebooks.items())
    head = passes["attentive_head"]
    head_s = sum(n.get("probe_steps", 0) * head["train_step_s"] + n.get("probe_inference", 0) * grow[nb]
                 * head["record_s"] for nb, n in notebooks.items())
    hours = {"features": inference / features / 3600, "fine-tuning": trained / training / 3600,
             f"attentive heads (in {head['threads']} thread)": head_s / 3600}
    steps = sum(n.get("probe_steps", 0) for n in notebooks.values())
    return ("paper-eval on CPU: the paper-size models", f"{sum(hours.values()):,.0f} h on "
            f"{bench['machine']['threads']} cores (" + ", ".join(f"{h:,.0f} h {k}" for k, h in hours.items()) + ")",
            f"{inference:,.0f} records encoded and {trained:,.0f} fine-tuned (counted at {passes['ptbxl_records']} "
            f"PTB-XL records, scaled) at {features:.2f} and ~{training:.2f} records/s (python -m ecgjepa_core.bench, "
            f"paper size, fp32); {steps:,.0f} attentive-head steps of {head['batch']} at {head['train_step_s']:.2f} s")


def write_report(json_path: Path, out_dir: Path | None = None) -> list[Path]:
    """``growth.csv`` (every stage's costs, slopes and projection), ``growth.md`` (the measured table),
    ``scale_growth.png`` and ``needs.md`` (what the paper profile needs) beside ``json_path``."""
    record = json.loads(Path(json_path).read_text())
    out_dir = Path(out_dir or Path(json_path).parent)
    table = stage_table(record)
    summary = growth(table)
    fractions = sorted(table["fraction"].unique())
    summary.to_csv(out_dir / "growth.csv", index=False, float_format="%.4g")
    (out_dir / "growth.md").write_text(growth_markdown(summary, fractions) + "\n")
    written = [out_dir / "growth.csv", out_dir / "growth.md", plot_growth(table, out_dir / "scale_growth.png")]
    if "machine" in record:
        bench = REPO_ROOT / "results" / "bench" / "bench.json"
        passes = out_dir / "passes.json"
        table = needs(record, summary, json.loads(bench.read_text()) if bench.is_file() else None,
                      json.loads(passes.read_text()) if passes.is_file() else None)
        (out_dir / "needs.md").write_text(table.to_markdown(index=False) + "\n")
        written.append(out_dir / "needs.md")
    return written
