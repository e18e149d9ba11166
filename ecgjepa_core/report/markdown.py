"""Result tables as files people read, and ``REPORT.md``.

``<name>.csv`` keeps every row at full precision (the schema of ``report.results``). ``<name>.md``
states the protocol once in its caption, the provenance in one line, and shows the compact table:
the first split of each dataset, one line per (method, encoder, dataset, task, protocol, ablation), one
column per metric holding ours with its interval and the paper's value. Two lines above the table are
written from its rows, never by hand: which splits it shows (``Shown:``) and what each number is, the
mean over what and what its interval covers (``Numbers:``). ``REPORT.md`` opens with the headline table
(each claim, the paper's value, ours with its interval, the verdict), then one compact table per paper
table, the figures in table order, and every deviation.
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
SHOWN_MARK, NUMBERS_MARK = "Shown:", "Numbers:"
KEYS_MARK = "Protocol keys"  # the override keys that change a table's protocol (table files and notebooks)
# Lines a table file carries for itself and REPORT.md states once, at its top: their "; "-separated items, merged.
SPLITS_MARK, PROBE_MARK = "Splits:", "Probe recipe:"
STATED_ONCE = (SPLITS_MARK, PROBE_MARK)
RAW_FEATURES = "raw features"  # the protocol of the authors' probe on raw features, beside the profile's recipe
# The splits in a few words (``data/splits.py`` defines them).
SPLIT_WORDS = {("PTB-XL", "paper split"): "folds 1-9 train / 10 test, as the paper",
               ("PTB-XL", "standard split"): "folds 1-8 train / 9 validation / 10 test",
               ("CPSC2018", "paper split"): "g1-g6 train / g7 test, as the paper"}


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
    """The rows a reader compares with the paper: each dataset's first split, and only ``metrics`` /
    ``ablations`` where given."""
    if rows.empty:
        return rows
    keep = pd.Series(True, index=rows.index)
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
                 digits: int = 3, across: str = "metric") -> pd.DataFrame:
    """One line per (method, encoder, dataset, task, protocol, ablation, metric) less ``across``; one column per
    value of ``across`` (the metric, or e.g. the protocol where a table reads each encoder several ways):
    ``ours [95 % CI] · paper``. A key column that holds one value throughout is left out."""
    shown = compact(rows, metrics, ablations)
    if shown.empty:
        return pd.DataFrame()
    keys = [k for k in ("method", "encoder", "dataset", "task", "protocol", "ablation", "metric") if k != across]
    lines = []
    for key, group in shown.groupby(keys, sort=False):
        line = dict(zip(keys, key))
        line["encoder"] = short_encoder(line["encoder"])
        for r in group.itertuples():  # beside an interval the sd stays in the CSV; without one it is shown
            low, high = _nan(r.ci_low), _nan(r.ci_high)
            sd = _nan(r.sd) if math.isnan(low) or math.isnan(high) else math.nan
            cell = format_cell(_nan(r.ours), sd, low, high, digits)
            if not math.isnan(_nan(r.paper)):
                cell += f" · {_fmt(_nan(r.paper), digits)}"
            if isinstance(r.flags, str) and r.flags:
                cell += f" {FLAG_MARK}"
            line[getattr(r, across)] = cell
        lines.append(line)
    view = pd.DataFrame(lines).fillna("")
    constant = [k for k in ("dataset", "task", "protocol", "ablation", "metric") if k in keys and view[k].nunique() <= 1]
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


def _pairs(df: pd.DataFrame) -> list[tuple[str, str]]:
    return list(dict.fromkeys(zip(df["dataset"].astype(str), df["split"].astype(str))))


def shown_text(rows: pd.DataFrame, shown: pd.DataFrame, name: str) -> str:
    """Which split of each dataset the compact table shows, and which others only the CSV holds."""
    on_view = _pairs(shown)
    text = f"{SHOWN_MARK} " + ", ".join(f"{d} {s}" for d, s in on_view) + "."
    elsewhere = [p for p in _pairs(rows) if p not in on_view]
    if elsewhere:
        text += f" `{name}.csv` also holds " + ", ".join(f"{d} {s}" for d, s in elsewhere) + "."
    return text


def splits_text(rows: pd.DataFrame) -> str:
    """What the named splits of ``rows`` are (:data:`SPLIT_WORDS`), or "" where none is one of them."""
    words = [f"{d} {s}: {SPLIT_WORDS[(d, s)]}" for d, s in _pairs(rows) if (d, s) in SPLIT_WORDS]
    return f"{SPLITS_MARK} " + "; ".join(words) + "." if words else ""


def _finite(x) -> bool:
    return not math.isnan(_nan(x))


def numbers_text(shown: pd.DataFrame) -> str:
    """What each number of the compact table is, read from its rows' ``n_runs``, ``sd_over`` and ``ci_over``:
    the mean over what, and what its 95 % interval covers (or, for a row without one, what its ± sd is over)."""
    groups: dict[tuple, list[str]] = {}
    for r in shown.itertuples():
        has_ci = _finite(r.ci_low) and _finite(r.ci_high)
        runs = int(_nan(r.n_runs)) if _finite(r.n_runs) else 1
        over = str(r.sd_over) if isinstance(r.sd_over, str) else ""
        key = (runs, over, str(r.ci_over) if has_ci else "", not has_ci and _finite(r.sd))
        label = str(r.method) + (f" ({r.ablation})" if isinstance(r.ablation, str) and r.ablation else "")
        if label not in groups.setdefault(key, []):
            groups[key].append(label)
    phrases = []
    for (runs, over, ci_over, with_sd), labels in groups.items():
        parts = []
        if runs > 1 and over:
            parts.append(f"{'mean ± sd' if with_sd else 'the mean'} over {runs} {over}")
        elif with_sd:
            parts.append(f"± sd of {over}")
        parts.append(f"95 % CI over {ci_over}" if ci_over else "no interval")
        phrases.append((labels, ", ".join(parts)))
    if len(phrases) == 1:
        return f"{NUMBERS_MARK} every row: {phrases[0][1]}."
    return f"{NUMBERS_MARK} " + "; ".join(f"{', '.join(labels)}: {text}" for labels, text in phrases) + "."


def table_markdown(rows: pd.DataFrame, name: str, metrics: Iterable[str] | None = None,
                   ablations: Iterable[str] | None = None, across: str = "metric") -> str:
    """The compact table with the lines written from its rows: splits shown, what the numbers are, the cells'
    legend, the table, its flags (what ``<name>.md`` and the notebooks show below the caption)."""
    view = compact_view(rows, metrics, ablations, across=across)
    if not len(view):
        return "(no rows)"
    shown = compact(rows, metrics, ablations)
    parts = [shown_text(rows, shown, name), splits_text(rows), "", numbers_text(shown), "", CELL_LEGEND, "",
             pipe_table(view), ""]
    return "\n".join(parts + [f"- {n}" for n in _flag_notes(rows, metrics, ablations)]).rstrip() + "\n"


def paper_gap(rows: pd.DataFrame) -> str:
    """How far ours is from the paper, one sentence per metric (never averaged across metrics or units), on the
    compact rows of the profile's probe recipe (the raw-feature rows stand beside them for reference)."""
    d = compact(rows) if len(rows) else rows
    if len(d):
        d = d[~d["protocol"].astype(str).str.contains(RAW_FEATURES)].dropna(subset=["difference"])
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
                ablations: Iterable[str] | None = None, across: str = "metric") -> tuple[Path, Path]:
    """``<name>.csv`` (every row) and ``<name>.md`` (title, caption, provenance, compact table, flags)."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{name}.csv", results_dir / f"{name}.md"
    atomic_write_text(csv_path, rows.to_csv(index=False))
    parts = [f"## {title}", "", caption, "", f"{PROVENANCE_MARK} {provenance_line(ident)} Every row, every split: "
             f"`{name}.csv`.", ""]
    if note:
        parts += [f"**{note}**", ""]
    atomic_write_text(md_path, "\n".join(parts) + "\n" + table_markdown(rows, name, metrics, ablations, across))
    return csv_path, md_path


# Columns of the plain tables kept in the CSV only: identifiers a reader does not compare by eye.
DETAIL_COLUMNS = ("recipe_fingerprint", "source_fingerprint", "model", "mask", "run", "cropa", "leads", "method")


def write_plain_table(df: pd.DataFrame, results_dir: Path | str, name: str, title: str,
                      notes: Iterable[str] = (), digits: int | None = None,
                      hidden: Iterable[str] = ()) -> tuple[Path, Path]:
    """A table without paper counterparts (data counts, pretraining runs) as CSV (every column) + Markdown
    without the :data:`DETAIL_COLUMNS` or, where given, without the ``hidden`` columns (a table whose rows are
    told apart by ``method`` keeps it); with ``digits``, its float columns to that many significant digits."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{name}.csv", results_dir / f"{name}.md"
    atomic_write_text(csv_path, df.to_csv(index=False))
    shown = df.drop(columns=[c for c in (tuple(hidden) or DETAIL_COLUMNS) if c in df.columns])
    if digits is not None:
        shown = shown.apply(lambda c: c.map(lambda x: float(f"{x:.{digits}g}")) if c.dtype.kind == "f" else c)
    body = pipe_table(shown) if len(shown.columns) else "(none)"
    atomic_write_text(md_path, "\n".join([f"## {title}", ""] + [f"- {n}" for n in notes] + ["", body, ""]))
    provenance.write_identity(results_dir, name, {}, (csv_path, md_path))  # the report checks their content
    return csv_path, md_path


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def runs_text(epochs: pd.Series) -> str:
    """``21 runs (10 of 8 epochs, 11 of 2 epochs)`` from the ``epochs`` column of the pretraining runs table."""
    counts = epochs.astype(int).value_counts().sort_index(ascending=False)
    def of(e: int) -> str:
        return f"of {e} epoch{'s' if e != 1 else ''}"
    if len(counts) == 1:
        return f"{len(epochs)} run{'s' if len(epochs) > 1 else ''} {of(counts.index[0])}"
    return f"{len(epochs)} runs (" + ", ".join(f"{n} {of(e)}" for e, n in counts.items()) + ")"


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
            text += (f" Pretraining: {runs_text(table['epochs'])} on {table['corpus_records'].max():,} ECGs at most, "
                     f"{duration(table['wall_seconds'].sum())} of training in all (every run: the table below).")
    manifest = results_dir / "manifest.json"
    if manifest.exists():
        info = json.loads(manifest.read_text())
        done = [r for r in info.get("notebooks", []) if r.get("status") == "ok"]
        hw = info.get("hardware", {})
        where = hw.get("cuda") or f"{hw.get('cpu', 'CPU')}, {hw.get('cores', '?')} cores"
        if done:
            text += (f" Notebooks {done[0]['notebook'][:2]}–{done[-1]['notebook'][:2]} took "
                     f"{duration(sum(r['seconds'] for r in done))} on {where}; a pretraining run already on disk is "
                     "reused, not retrained.")
    return text


# Lines of a table file that REPORT.md states once at its top, or leaves to the table file.
_TABLE_FILE_ONLY = (PROVENANCE_MARK, "Profile `", "- Profile `", "- **", "  - ", f"- {FLAG_MARK}", CELL_LEGEND,
                    "Ours − paper", KEYS_MARK)


MIXED_MARK = "**Mixed provenance: these tables were not all computed in one run.**"


def write_report(results_dir: Path | str, profile_name: str, tables: Iterable[str], deviations: Iterable[str],
                 headline: str, preamble_text: str = "", provenance_notes: Iterable[str] = (),
                 figures_order: Iterable[str] = (), notice: str = "", summarised: Iterable[str] = ()) -> Path:
    """``REPORT.md``: what must be known before any number (mixed provenance, the profile's ``notice``), the
    headline table, provenance, what ran, one compact table per paper table, the figures in table order, every
    deviation. The tables in ``summarised`` keep their title and notes here, their rows in ``<name>.md``."""
    results_dir = Path(results_dir)
    tables = list(tables)
    parts = [f"# ECG-JEPA reproduction — profile `{profile_name}`", ""]
    notes = list(provenance_notes)
    if notes:
        parts += [MIXED_MARK, ""] + [f"- {n}" for n in notes] + [""]
    if notice:
        parts += [f"> **{notice}**", ""]
    parts += ["## Headline", "", headline, ""]
    if preamble_text:
        parts += [preamble_text, ""]
    # Each table's provenance, profile note, cell legend, splits, probe recipe and the meaning of ⚑ are stated
    # once, at the top, and its claims in the headline table; the table files and notebooks give claims, flags and
    # gaps in full.
    texts = [(results_dir / f"{name}.md").read_text() if (results_dir / f"{name}.md").exists()
             else f"## {name}\n\n(not produced in this run)\n" for name in tables]
    summarised = set(summarised)
    texts = ["\n".join([line for line in text.splitlines() if not line.startswith("|")] + [f"Every row: `{name}.md`."])
             if name in summarised and (results_dir / f"{name}.md").exists() else text
             for name, text in zip(tables, texts)]
    once = {mark: list(dict.fromkeys(item for text in texts for line in text.splitlines() if line.startswith(mark)
                                     for item in line[len(mark):].strip().rstrip(".").split("; ")))
            for mark in STATED_ONCE}
    parts += [line for mark, items in once.items() if items for line in (f"{mark} {'; '.join(items)}.", "")]
    for text in texts:
        parts += ["\n".join(line for line in text.splitlines()
                            if not line.startswith(_TABLE_FILE_ONLY + STATED_ONCE)), ""]
    fig_dir = results_dir / "figures"
    shown = [p for stem in figures_order for p in sorted(fig_dir.glob(f"{stem}*.png"))] if fig_dir.is_dir() else []
    if shown:
        parts += ["## Figures", ""] + [f"![{p.stem}](figures/{p.name})" for p in dict.fromkeys(shown)] + [""]
    parts += ["## Deviations from the paper", ""] + [f"- {d}" for d in deviations] + [""]
    path = results_dir / "REPORT.md"
    path.write_text(re.sub(r"\n{3,}", "\n\n", "\n".join(parts)))
    return path
