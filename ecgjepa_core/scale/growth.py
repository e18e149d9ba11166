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

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

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
    for r in summary.itertuples(index=False):
        r = r._asdict()
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


def write_report(json_path: Path, out_dir: Path | None = None) -> list[Path]:
    """``growth.csv`` (every stage's costs, slopes and projection), ``growth.md`` (the measured table) and
    ``scale_growth.png`` beside ``json_path``."""
    import json

    record = json.loads(Path(json_path).read_text())
    out_dir = Path(out_dir or Path(json_path).parent)
    table = stage_table(record)
    summary = growth(table)
    fractions = sorted(table["fraction"].unique())
    summary.to_csv(out_dir / "growth.csv", index=False, float_format="%.4g")
    (out_dir / "growth.md").write_text(growth_markdown(summary, fractions) + "\n")
    return [out_dir / "growth.csv", out_dir / "growth.md", plot_growth(table, out_dir / "scale_growth.png")]
