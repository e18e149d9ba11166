"""Does a REPORT.md say one thing per number? Its captions, counts and verdicts checked against the rows beside it.

:func:`contradictions` reads ``REPORT.md`` and the CSVs in the same results folder and returns every place where
the text and the rows disagree (an empty list: none found):

* the notices a reader needs first (mixed provenance, the profile's notice) stand above the headline;
* the provenance sentence counts the pretraining runs and their epochs as the runs table lists them;
* every table section shows the rows its CSV's compact view holds (promised rows included: the raw-feature rows
  of Table 1 where the report says it has them), names the splits it shows (``Shown:``), says what each number
  is a mean over as its rows do (``Numbers:``), and says what "±" means exactly where a cell shows one;
* each headline claim names where its rows are, a split its table shows, and its two values are in that table;
* a learning-curve verdict draws no trend from a probe at chance or from a handful of validation records.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from ecgjepa_core.report.claims import CLAIMS, read_table
from ecgjepa_core.report.markdown import NUMBERS_MARK, RAW_FEATURES, SHOWN_MARK, compact, compact_view
from ecgjepa_core.study.learning_curves import no_trend
from ecgjepa_core.study.profiles import PROFILES, get_profile
from ecgjepa_core.study.registry import TABLES

RUNS_TITLE = "Every pretraining run of this study"
CURVES_TITLE = "Learning curves and collapse"


def sections(text: str) -> dict[str, str]:
    """``{title: body}`` of the report's ``## `` sections."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2])}


def pipe_rows(body: str) -> list[list[str]]:
    """The rows of the first pipe table in ``body``, header first, without the separator line."""
    lines = [line for line in body.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in lines if not line.startswith("|---")]


def prose(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.strip() and not line.startswith("|")]


def _line(body: str, mark: str) -> str | None:
    return next((line for line in prose(body) if line.startswith(mark)), None)


def _runs(text: str, sections_: dict[str, str]) -> list[str]:
    runs = pipe_rows(sections_.get(RUNS_TITLE, ""))
    said = re.search(r"Pretraining: (\d+) runs?\b(.*?) on [\d,]+ ECGs", text)
    if not runs or said is None:
        return [] if not runs and said is None else ["the pretraining runs are counted or listed, not both"]
    epochs = pd.Series([int(r[runs[0].index("epochs")]) for r in runs[1:]]).value_counts().to_dict()
    claimed = {int(e): int(n) for n, e in re.findall(r"(\d+) (?:runs )?of (\d+) epochs?", said.group(0))}
    problems = []
    if int(said.group(1)) != len(runs) - 1:
        problems.append(f"the provenance sentence counts {said.group(1)} pretraining runs, the table lists "
                        f"{len(runs) - 1}")
    if claimed != epochs:
        problems.append(f"the provenance sentence says {said.group(0)!r}; the runs table holds "
                        + ", ".join(f"{n} of {e} epochs" for e, n in sorted(epochs.items(), reverse=True)))
    return problems


def _table(spec, body: str, rows: pd.DataFrame, raw_promised: bool) -> list[str]:
    title = spec.title.split(" · ")[0]
    shown = compact(rows, spec.compact_metrics, spec.compact_ablations)
    view = compact_view(rows, spec.compact_metrics, spec.compact_ablations, across=spec.compact_across)
    table = pipe_rows(body)
    cells = [c for row in table[1:] for c in row]
    problems = []
    if len(table) - 1 != len(view):
        problems.append(f"{title} shows {max(len(table) - 1, 0)} rows; its CSV's compact view has {len(view)}")
    if raw_promised and spec.name == "table1_linear" and not any(RAW_FEATURES in c for c in cells):
        problems.append(f"{title}: the report promises the raw-feature rows, the table has none")
    if shown.empty:
        return problems
    shown_line = _line(body, SHOWN_MARK)
    if shown_line is None:
        problems.append(f"{title} does not say which splits it shows")
    else:
        on_view = shown_line.split(" also holds ")[0]
        pairs = dict.fromkeys(zip(rows["dataset"], rows["split"]))
        visible = set(zip(shown["dataset"], shown["split"]))
        for dataset, split in pairs:
            if (f"{dataset} {split}" in on_view) != ((dataset, split) in visible):
                problems.append(f"{title}: {dataset} {split} is {'' if (dataset, split) in visible else 'not '}"
                                f"shown, the caption says otherwise")
    numbers = _line(body, NUMBERS_MARK)
    if numbers is None:
        problems.append(f"{title} does not say what its numbers are a mean over, nor what its intervals cover")
    else:
        pooled = {(int(r.n_runs), str(r.sd_over)) for r in shown.itertuples()
                  if isinstance(r.sd_over, str) and r.sd_over and not math.isnan(float(r.n_runs)) and r.n_runs > 1}
        said = {(int(n), over.strip()) for n, over in re.findall(r"over (\d+) ([^,;]+?)(?=[,;]|\.$)", numbers)}
        problems += [f"{title}: its rows are means over {n} {over}, the caption does not say so"
                     for n, over in sorted(pooled - said)]
        problems += [f"{title}: the caption says 'over {n} {over}', no row shown is" for n, over in sorted(said - pooled)]
    with_pm = any(" ± " in c for c in cells)
    says_pm = any("±" in line for line in prose(body) if not line.startswith("- "))
    if says_pm and not with_pm:
        problems.append(f"{title}: the caption speaks of ± but no cell shows one")
    if with_pm and not says_pm:
        problems.append(f"{title}: cells show ± and the caption does not say what it is over")
    return problems


def _headline(body: str, sections_: dict[str, str]) -> list[str]:
    table = pipe_rows(body)
    if not table:
        return ["no headline table"]
    header, problems = table[0], []
    by_text = {c.text: c for c in CLAIMS}
    titles = {spec.name: spec.title for spec in TABLES}
    for row in table[1:]:
        cells = dict(zip(header, row))
        claim = by_text.get(cells["claim"])
        if claim is None or cells.get("ours", "–") == "–":
            continue
        section = sections_.get(titles[claim.table], "")
        where = cells.get("rows")
        if where is None:
            problems.append(f"headline '{claim.text}': does not say which table and split its rows come from")
        else:
            split = where.split(", ", 1)[-1]
            shown_line = (_line(section, SHOWN_MARK) or "").split(" also holds ")[0]
            if split not in shown_line:
                problems.append(f"headline '{claim.text}': its rows are on the {split}, which "
                                f"{titles[claim.table]} does not show")
        values = re.findall(r"-?\d+\.\d+", cells["ours"])
        shown_cells = " ".join(c for r in pipe_rows(section)[1:] for c in r)
        problems += [f"headline '{claim.text}': {v} is not in {titles[claim.table]}" for v in values
                     if not re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", shown_cells)]
    return problems


def _curves(folder: Path, body: str) -> list[str]:
    path = folder / "learning_curves.csv"
    if not path.exists() or not body:
        return []
    curves, problems = pd.read_csv(path), []
    bullets = [line for line in body.splitlines() if line.startswith("- ")]
    silent = {run for run, curve in curves.groupby("run") if no_trend(curve)}
    for run in sorted(silent):
        said = next((b for b in bullets if b.startswith(f"- `{run}`:")), "")
        if "says nothing about longer pretraining" not in said or "would likely" in said:
            problems.append(f"learning curves: `{run}`'s probe has no trend to read, the verdict reads one into it")
    beyond = next((b for b in bullets if "Beyond this scale" in b), "")
    if silent and silent == set(curves["run"]) and "would not raise" in beyond:
        problems.append("learning curves: no probe has a trend to read, yet the report concludes about longer "
                        "pretraining")
    return problems


def contradictions(folder: Path | str) -> list[str]:
    """Every disagreement between ``<folder>/REPORT.md`` and the rows beside it (see the module's docstring)."""
    folder = Path(folder)
    text = (folder / "REPORT.md").read_text()
    parts = sections(text)
    top = text[:text.index("## Headline")] if "## Headline" in text else text
    problems = []
    if "Mixed provenance" in text and "Mixed provenance" not in top:
        problems.append("the mixed-provenance notice is not at the top of the report")
    profile = re.search(r"profile `([^`]+)`", text.splitlines()[0])
    if profile and profile.group(1) in PROFILES:
        notice = get_profile(profile.group(1)).notice
        if notice and notice not in top:
            problems.append(f"the {profile.group(1)} profile's notice is not at the top of the report")
    problems += _runs(text, parts)
    raw_promised = "raw-feature rows" in text
    for spec in TABLES:
        rows = read_table(folder, spec.name)
        if rows is None or spec.title not in parts:
            continue
        problems += _table(spec, parts[spec.title], rows, raw_promised)
    problems += _headline(parts.get("Headline", ""), parts)
    problems += _curves(folder, parts.get(CURVES_TITLE, ""))
    return problems
