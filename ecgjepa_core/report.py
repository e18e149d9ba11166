"""Result tables beside the paper's numbers (CSV + Markdown) and the report.

A result row holds the key of a paper cell (``method``, ``dataset``, ``task``, ``metric``,
``setting``; see ``paper.py``), our value with its uncertainty (``sd`` over seeds or draws,
``ci_low``/``ci_high`` from the test-set bootstrap) and the ``protocol`` that produced it. The
paper's value and the difference are looked up here, never typed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .paper import paper_cell

COLUMNS = ["method", "dataset", "task", "metric", "setting", "ours", "sd", "ci_low", "ci_high", "n_runs",
           "paper", "paper_sd", "difference", "protocol"]
PAPER_KEY = ("method", "dataset", "task", "metric", "setting")


def _paper_lookup(table: str, row: dict) -> tuple[float, float]:
    key = {k: row[k] for k in PAPER_KEY if row.get(k) not in (None, "")}
    key.update(row.get("paper_key") or {})
    try:
        cell = paper_cell(table, **key)
    except KeyError:
        return math.nan, math.nan
    return float(cell["value"]), float(cell["sd"])


def compare_with_paper(table: str, rows: Iterable[dict]) -> pd.DataFrame:
    """Rows of our results -> DataFrame with the paper's value and ours − paper beside each.

    A row may carry ``paper_key`` (dict) to name the paper cell where our labels differ (e.g. our
    ``setting`` "paper split" vs the paper's ""). Rows without a paper counterpart get NaN.
    """
    out = []
    for row in rows:
        paper, paper_sd = _paper_lookup(table, row)
        ours = float(row["ours"])
        out.append({**{c: row.get(c, "") for c in PAPER_KEY}, "ours": ours, "sd": row.get("sd", math.nan),
                    "ci_low": row.get("ci_low", math.nan), "ci_high": row.get("ci_high", math.nan),
                    "n_runs": row.get("n_runs", 1), "paper": paper, "paper_sd": paper_sd,
                    "difference": ours - paper, "protocol": row.get("protocol", "")})
    return pd.DataFrame(out, columns=COLUMNS)


def _fmt(x: float, digits: int) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def format_cell(ours: float, sd: float = math.nan, low: float = math.nan, high: float = math.nan,
                digits: int = 3) -> str:
    """``0.812 ± 0.010 [0.781, 0.840]``; parts that are NaN are left out."""
    text = _fmt(ours, digits)
    if not math.isnan(sd):
        text += f" ± {_fmt(sd, digits)}"
    if not (math.isnan(low) or math.isnan(high)):
        text += f" [{_fmt(low, digits)}, {_fmt(high, digits)}]"
    return text


def to_markdown(df: pd.DataFrame, digits: int = 3) -> str:
    """The table as readers see it: ours with sd and CI in one cell, the paper's value, the difference."""
    shown = pd.DataFrame({
        "method": df["method"], "dataset": df["dataset"], "task": df["task"], "metric": df["metric"],
        "setting": df["setting"],
        "ours (± sd) [95% CI]": [format_cell(r.ours, r.sd, r.ci_low, r.ci_high, digits) for r in df.itertuples()],
        "paper": [format_cell(r.paper, r.paper_sd, digits=digits) for r in df.itertuples()],
        "ours − paper": [_fmt(d, digits) for d in df["difference"]],
        "protocol": df["protocol"],
    })
    shown = shown.loc[:, [c for c in shown.columns if shown[c].astype(str).str.len().gt(0).any()]]
    return shown.to_markdown(index=False)


def write_table(df: pd.DataFrame, results_dir: Path | str, name: str, title: str,
                notes: Iterable[str] = ()) -> tuple[Path, Path]:
    """Write ``<name>.csv`` (all columns, full precision) and ``<name>.md`` (title, notes, table)."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{name}.csv", results_dir / f"{name}.md"
    df.to_csv(csv_path, index=False)
    lines = [f"## {title}", ""] + [f"- {n}" for n in notes] + ([""] if notes else []) + [to_markdown(df), ""]
    md_path.write_text("\n".join(lines))
    return csv_path, md_path


def write_report(results_dir: Path | str, profile_name: str, tables: Iterable[str], deviations: Iterable[str],
                 preamble: str = "", claims: str = "") -> Path:
    """``REPORT.md``: what ran, every table beside the paper's, the claims, and every deviation."""
    results_dir = Path(results_dir)
    parts = [f"# ECG-JEPA reproduction — profile `{profile_name}`", ""]
    if preamble:
        parts += [preamble, ""]
    parts += ["## Deviations from the paper", ""] + [f"- {d}" for d in deviations] + [""]
    if claims:
        parts += ["## The paper's claims, tested here", "", claims, ""]
    for name in tables:
        md = results_dir / f"{name}.md"
        parts += [md.read_text() if md.exists() else f"## {name}\n\n(not produced in this run)\n", ""]
    figures = sorted((results_dir / "figures").glob("*.png")) if (results_dir / "figures").is_dir() else []
    if figures:
        parts += ["## Figures", ""] + [f"![{p.stem}](figures/{p.name})" for p in figures] + [""]
    path = results_dir / "REPORT.md"
    path.write_text("\n".join(parts))
    return path
