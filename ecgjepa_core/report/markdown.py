"""Result tables beside the paper's numbers (CSV + Markdown) and the report.

A result row holds the key of a paper cell (``method``, ``dataset``, ``task``, ``metric``,
``setting``; see ``paper.py``), our value with its uncertainty (``sd`` over seeds or draws,
``ci_low``/``ci_high`` from the test-set bootstrap) and the ``protocol`` that produced it. The
paper's value and the difference are looked up here, never typed in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ecgjepa_core.report.paper import paper_cell

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


def _write(df: pd.DataFrame, markdown: str, results_dir: Path | str, name: str, title: str,
           notes: Iterable[str]) -> tuple[Path, Path]:
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{name}.csv", results_dir / f"{name}.md"
    df.to_csv(csv_path, index=False)
    notes = list(notes)
    md_path.write_text("\n".join([f"## {title}", ""] + [f"- {n}" for n in notes] + ([""] if notes else [])
                                  + [markdown, ""]))
    return csv_path, md_path


def write_table(df: pd.DataFrame, results_dir: Path | str, name: str, title: str,
                notes: Iterable[str] = ()) -> tuple[Path, Path]:
    """Write ``<name>.csv`` (all columns, full precision) and ``<name>.md`` (title, notes, table)."""
    return _write(df, to_markdown(df), results_dir, name, title, notes)


def write_plain_table(df: pd.DataFrame, results_dir: Path | str, name: str, title: str,
                      notes: Iterable[str] = ()) -> tuple[Path, Path]:
    """A table without paper counterparts (data counts, pretraining runs) as CSV + Markdown."""
    return _write(df, df.to_markdown(index=False), results_dir, name, title, notes)


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


def one_row(table: pd.DataFrame, where: dict) -> pd.Series | None:
    rows = table
    for k, v in where.items():
        rows = rows[rows[k] == v]
    return rows.iloc[0] if len(rows) == 1 else None


def contrast_rows(table: pd.DataFrame, a: dict, b: dict, **where) -> str:
    """One sentence comparing the row matching ``a`` + ``where`` with the row matching ``b`` + ``where``."""
    ra, rb = one_row(table, {**where, **a}), one_row(table, {**where, **b})
    name_a, name_b = ", ".join(map(str, a.values())), ", ".join(map(str, b.values()))
    what = ", ".join(str(v) for v in where.values())
    if ra is None or rb is None:
        return f"{name_a} vs {name_b} ({what}): not both in this table."
    if math.isnan(ra.ours) or math.isnan(rb.ours):
        return f"{name_a} vs {name_b} ({what}): not computed at this scale."
    cis = (ra.ci_low, ra.ci_high, rb.ci_low, rb.ci_high)
    if any(math.isnan(c) for c in cis):
        ci_text = "no bootstrap intervals"
    elif ra.ci_low > rb.ci_high or rb.ci_low > ra.ci_high:
        ci_text = "their 95 % bootstrap intervals do not overlap"
    else:
        ci_text = "their 95 % bootstrap intervals overlap"
    return f"{name_a} {ra.ours:.3f} vs {name_b} {rb.ours:.3f} ({what}): difference {ra.ours - rb.ours:+.3f}; {ci_text}."


def contrast(table: pd.DataFrame, method_a: str, method_b: str, **where) -> str:
    """``contrast_rows`` for two methods."""
    return contrast_rows(table, {"method": method_a}, {"method": method_b}, **where)


def contrast_settings(table: pd.DataFrame, setting_a: str, setting_b: str, **where) -> str:
    """``contrast_rows`` for two settings (e.g. "cropa=yes, linear, paper split" vs "cropa=no, …")."""
    return contrast_rows(table, {"setting": setting_a}, {"setting": setting_b}, **where)


def best_row(table: pd.DataFrame, metric: str, setting_contains: str = "") -> str:
    """One sentence naming the row with the highest value of ``metric``."""
    rows = table[(table["metric"] == metric) & table["setting"].str.contains(setting_contains, regex=False)]
    rows = rows.dropna(subset=["ours"])
    if rows.empty:
        return f"No {metric} value to compare."
    top = rows.loc[rows["ours"].idxmax()]
    return (f"Highest {metric}: {top.method} with {top.setting} ({top.ours:.3f}); "
            f"lowest {rows['ours'].min():.3f}, over {len(rows)} settings.")


def paper_gap(table: pd.DataFrame) -> str:
    """One sentence on how far our numbers are from the paper's, over the cells it reports."""
    d = table["difference"].dropna()
    if d.empty:
        return "No cell of this table has a published counterpart."
    return (f"Over the {len(d)} cells with a published value, ours − paper averages {d.mean():+.3f} "
            f"(from {d.min():+.3f} to {d.max():+.3f}).")


TABLE_ORDER = ("data", "pretraining_runs", "table1_linear", "table2_finetune", "table3_low_shot",
               "table4_reduced_leads", "table5_ecg_features", "table6_cropa", "table7_masking", "table8_leads")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def preamble(results_dir: Path | str, profile_name: str, seed: int) -> str:
    """What ran and how long it took: the pretraining runs (``pretraining_runs.csv``) and the notebooks
    executed so far (the manifest ``run_all`` rewrites after each notebook)."""
    results_dir = Path(results_dir)
    text = (f"Profile `{profile_name}`, seed {seed}. Every number below was computed by this code in this run; "
            "the paper's value stands beside it and `ours − paper` is their difference. `manifest.json` lists the "
            "commit, package versions, parameters, data fingerprints, wall times and hardware.")
    runs = results_dir / "pretraining_runs.csv"
    if runs.exists():
        table = pd.read_csv(runs)
        text += (f" Pretraining: {len(table)} runs of {table['epochs'].max()} epochs on "
                 f"{table['corpus_records'].max():,} ECGs at most, {_minutes(table['wall_seconds'].sum())} of "
                 "training in all (table below).")
    manifest = results_dir / "manifest.json"
    if manifest.exists():
        info = json.loads(manifest.read_text())
        done = [r for r in info.get("notebooks", []) if r.get("status") == "ok"]
        hw = info.get("hardware", {})
        where = hw.get("cuda") or f"{hw.get('cpu', 'CPU')}, {hw.get('cores', '?')} cores"
        text += (f" Notebooks {done[0]['notebook'][:2]}–{done[-1]['notebook'][:2]} took "
                 f"{_minutes(sum(r['seconds'] for r in done))} on {where}; a pretraining run already on disk "
                 "is reused, not retrained." if done else "")
    return text
