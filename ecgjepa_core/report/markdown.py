"""Result tables as files people read, and ``REPORT.md``.

``<name>.csv`` keeps every row at full precision (the schema of ``study.results``). ``<name>.md``
states the protocol once in its caption, the provenance in one line, and shows the compact table:
the first split of each dataset, one line per (method, encoder, dataset, task, ablation), one column
per metric holding ours with its interval and the paper's value. ``REPORT.md`` opens with the
headline table (each claim, the paper's value, ours with its interval, the verdict), then one
compact table per paper table, the figures in table order, and every deviation.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ecgjepa_core.files import atomic_write_text
from ecgjepa_core.report import provenance

FLAG_MARK = "⚑"
CELL_LEGEND = "Cells: ours [95 % CI] · the paper's value."
PROVENANCE_MARK = "Provenance:"  # a table file's own line; REPORT.md states the provenance once, at its top


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


def pipe_table(df: pd.DataFrame) -> str:
    """``df`` as a Markdown pipe table without alignment padding (renders the same, reads a third shorter)."""
    if df.empty:
        return "(none)"
    def cell(x) -> str:
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x).replace("|", "\\|")
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _nan(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def compact(rows: pd.DataFrame, metrics: Iterable[str] | None = None,
            ablations: Iterable[str] | None = None) -> pd.DataFrame:
    """The rows a reader compares with the paper: each dataset's first split, the profile's probe recipe,
    and only ``metrics`` / ``ablations`` where given."""
    if rows.empty:
        return rows
    keep = ~rows["protocol"].astype(str).str.contains("raw features")
    if metrics is not None:
        keep &= rows["metric"].isin(list(metrics))
    if ablations is not None:
        keep &= rows["ablation"].isin(list(ablations))
    first_split = rows.groupby("dataset", sort=False)["split"].transform("first")
    return rows[keep & (rows["split"] == first_split)].reset_index(drop=True)


def short_encoder(label: str) -> str:
    """``pretrained here: rb, 2 epochs (encoder 32 wide…)`` -> ``pretrained here: rb, 2 epochs``."""
    return str(label).split(" (encoder")[0].split(" (trained")[0]


def compact_view(rows: pd.DataFrame, metrics: Iterable[str] | None = None, ablations: Iterable[str] | None = None,
                 digits: int = 3) -> pd.DataFrame:
    """One line per (method, encoder, dataset, task, protocol, ablation); one column per metric:
    ``ours [95 % CI] · paper``. A key column that holds one value throughout is left out."""
    shown = compact(rows, metrics, ablations)
    if shown.empty:
        return pd.DataFrame()
    keys = ["method", "encoder", "dataset", "task", "protocol", "ablation"]
    lines = []
    for key, group in shown.groupby(keys, sort=False):
        line = dict(zip(keys, key))
        line["encoder"] = short_encoder(line["encoder"])
        for r in group.itertuples():  # the sd over seeds stays in the CSV: the interval is the mean's
            cell = format_cell(_nan(r.ours), math.nan, _nan(r.ci_low), _nan(r.ci_high), digits)
            if not math.isnan(_nan(r.paper)):
                cell += f" · {_fmt(_nan(r.paper), digits)}"
            if isinstance(r.flags, str) and r.flags:
                cell += f" {FLAG_MARK}"
            line[r.metric] = cell
        lines.append(line)
    view = pd.DataFrame(lines).fillna("")
    constant = [k for k in ("dataset", "task", "protocol", "ablation") if view[k].nunique() <= 1]
    if not view["encoder"].str.startswith("checkpoint").any():  # all pretrained here: the method says it
        constant.append("encoder")
    view = view.drop(columns=constant)
    return view.loc[:, [c for c in view.columns if view[c].astype(str).str.len().gt(0).any()]]


def _flag_notes(rows: pd.DataFrame, metrics: Iterable[str] | None = None,
                ablations: Iterable[str] | None = None) -> list[str]:
    shown = compact(rows, metrics, ablations)
    if shown.empty:
        return []
    flagged = shown[shown["flags"].astype(str).str.len() > 0]
    notes = []
    for (dataset, task, flags), _ in flagged.groupby(["dataset", "task", "flags"], sort=False):
        notes.append(f"{FLAG_MARK} {dataset} {task}: {flags}; these cells are not compared with the paper.")
    return notes


def paper_gap(rows: pd.DataFrame) -> str:
    """How far ours is from the paper, one sentence per metric (never averaged across metrics or units)."""
    d = compact(rows).dropna(subset=["difference"]) if len(rows) else rows
    if d.empty:
        return "No unflagged row of this table has a published counterpart."
    parts = [f"{metric} {g['difference'].mean():+.3f} (mean of {len(g)}; {g['difference'].min():+.3f} to "
             f"{g['difference'].max():+.3f})" for metric, g in d.groupby("metric", sort=False)]
    return "Ours − paper, by metric: " + "; ".join(parts) + "."


def provenance_line(ident: dict) -> str:
    commit = (ident.get("commit") or "unknown")[:12] + (" (uncommitted changes)" if ident.get("dirty") else "")
    encoders = ", ".join(f"{k}: {v['path'].rsplit('/', 1)[-1]} sha256 {v['sha256'][:12]}"
                         for k, v in (ident.get("encoders") or {}).items())
    overrides = json.dumps(ident.get("overrides") or {}, sort_keys=True)
    return (f"Computed at commit {commit}, profile `{ident.get('profile')}`, seed {ident.get('seed')}, overrides "
            f"{overrides}, encoder files: {encoders or 'none'}.")


def write_table(rows: pd.DataFrame, results_dir: Path | str, name: str, title: str, caption: str, ident: dict,
                note: str = "", metrics: Iterable[str] | None = None,
                ablations: Iterable[str] | None = None) -> tuple[Path, Path]:
    """``<name>.csv`` (every row) and ``<name>.md`` (title, caption, provenance, compact table, flags)."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{name}.csv", results_dir / f"{name}.md"
    atomic_write_text(csv_path, rows.to_csv(index=False))
    view = compact_view(rows, metrics, ablations)
    body = (CELL_LEGEND + "\n\n" + pipe_table(view)) if len(view) else "(no rows)"
    parts = [f"## {title}", "", caption, "", f"{PROVENANCE_MARK} {provenance_line(ident)} Every row, every split: "
             f"`{name}.csv`.", ""]
    if note:
        parts += [f"**{note}**", ""]
    parts += [body, ""] + [f"- {n}" for n in _flag_notes(rows, metrics, ablations)]
    atomic_write_text(md_path, "\n".join(parts) + "\n")
    return csv_path, md_path


# Columns of the plain tables kept in the CSV only: identifiers a reader does not compare by eye.
DETAIL_COLUMNS = ("recipe_fingerprint", "source_fingerprint", "model", "mask", "run", "cropa", "leads", "method")


def write_plain_table(df: pd.DataFrame, results_dir: Path | str, name: str, title: str,
                      notes: Iterable[str] = ()) -> tuple[Path, Path]:
    """A table without paper counterparts (data counts, pretraining runs) as CSV (every column) + Markdown
    (without the :data:`DETAIL_COLUMNS`)."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{name}.csv", results_dir / f"{name}.md"
    atomic_write_text(csv_path, df.to_csv(index=False))
    shown = df.drop(columns=[c for c in DETAIL_COLUMNS if c in df.columns])
    body = pipe_table(shown) if len(shown.columns) else "(none)"
    atomic_write_text(md_path, "\n".join([f"## {title}", ""] + [f"- {n}" for n in notes] + ["", body, ""]))
    provenance.write_identity(results_dir, name, {}, (csv_path, md_path))  # the report checks their content
    return csv_path, md_path


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def preamble(results_dir: Path | str, profile_name: str, seed: int) -> str:
    """What ran and how long it took: the pretraining runs (``pretraining_runs.csv``) and the notebooks
    recorded in the manifest."""
    results_dir = Path(results_dir)
    text = f"Profile `{profile_name}`, seed {seed}; `manifest.json` records how this run was made."
    data = results_dir / "data.csv"
    if data.exists():
        table = pd.read_csv(data)
        pre = table[table["role"] == "pretraining"]
        text += (f" Data (`data.md`): {int(pre['used_for_pretraining'].sum()):,} ECGs from {len(pre)} sources enter "
                 f"pretraining; {int(table['skipped'].sum())} records were skipped, each counted with its reason.")
    runs = results_dir / "pretraining_runs.csv"
    if runs.exists():
        table = pd.read_csv(runs)
        if len(table):
            text += (f" Pretraining: {len(table)} runs of {table['epochs'].max()} epochs on "
                     f"{table['corpus_records'].max():,} ECGs at most, {_minutes(table['wall_seconds'].sum())} of "
                     "training in all (`pretraining_runs.md`).")
    manifest = results_dir / "manifest.json"
    if manifest.exists():
        info = json.loads(manifest.read_text())
        done = [r for r in info.get("notebooks", []) if r.get("status") == "ok"]
        hw = info.get("hardware", {})
        where = hw.get("cuda") or f"{hw.get('cpu', 'CPU')}, {hw.get('cores', '?')} cores"
        if done:
            text += (f" Notebooks {done[0]['notebook'][:2]}–{done[-1]['notebook'][:2]} took "
                     f"{_minutes(sum(r['seconds'] for r in done))} on {where}; a pretraining run already on disk is "
                     "reused, not retrained.")
    return text


# Lines of a table file that REPORT.md states once at its top, or leaves to the table file.
_TABLE_FILE_ONLY = (PROVENANCE_MARK, "Profile `", "- Profile `", "- **", "  - ", f"- {FLAG_MARK}", CELL_LEGEND,
                    "Ours − paper")


def write_report(results_dir: Path | str, profile_name: str, tables: Iterable[str], deviations: Iterable[str],
                 headline: str, preamble_text: str = "", provenance_notes: Iterable[str] = (),
                 claims_text: str = "", figures_order: Iterable[str] = ()) -> Path:
    """``REPORT.md``: headline table, provenance, what ran, one compact table per paper table, the claims in
    full, the figures in table order, every deviation."""
    results_dir = Path(results_dir)
    parts = [f"# ECG-JEPA reproduction — profile `{profile_name}`", "", "## Headline", "", headline, ""]
    notes = list(provenance_notes)
    if notes:
        parts += ["**Mixed provenance: these tables were not all computed in one run.**", ""]
        parts += [f"- {n}" for n in notes] + [""]
    if preamble_text:
        parts += [preamble_text, ""]
    # Each table's provenance, profile note, cell legend and the meaning of ⚑ are stated once, at the top, and
    # its claims in the headline table; the table files and notebooks give claims, flags and gaps in full.
    for name in tables:
        md = results_dir / f"{name}.md"
        text = md.read_text() if md.exists() else f"## {name}\n\n(not produced in this run)\n"
        parts += ["\n".join(line for line in text.splitlines()
                            if not line.startswith(_TABLE_FILE_ONLY)), ""]
    fig_dir = results_dir / "figures"
    shown = [p for stem in figures_order for p in sorted(fig_dir.glob(f"{stem}*.png"))] if fig_dir.is_dir() else []
    if shown:
        parts += ["## Figures", ""] + [f"![{p.stem}](figures/{p.name})" for p in dict.fromkeys(shown)] + [""]
    parts += ["## Deviations from the paper", ""] + [f"- {d}" for d in deviations] + [""]
    path = results_dir / "REPORT.md"
    path.write_text(re.sub(r"\n{3,}", "\n\n", "\n".join(parts)))
    return path
