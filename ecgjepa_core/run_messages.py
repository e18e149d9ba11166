"""What the notebook runner tells the user: which notebook of how many is running, how long it took the
last time it ran here, and at the end where the report is, how long the run took and what its numbers mean.

The estimates come from the ``manifest.json`` already in the results folder (the last run of the same
profile there); without one the runner says it has none rather than guess.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ecgjepa_core.report.markdown import duration

TAG = "[run_all]"


def previous_seconds(results_dir: Path) -> dict[str, float]:
    """``{notebook file name: seconds}`` of the notebooks that ran ok in the manifest already in ``results_dir``."""
    path = results_dir / "manifest.json"
    try:
        runs = json.loads(path.read_text()).get("notebooks", [])
    except (OSError, ValueError):
        return {}
    return {r["notebook"]: float(r["seconds"]) for r in runs if r.get("status") == "ok" and r.get("seconds")}


def shown_path(path: Path) -> str:
    """``path`` relative to the current folder where it lies below it (what the user can paste), else absolute."""
    try:
        return str(path.resolve().relative_to(Path(os.getcwd()).resolve()))
    except ValueError:
        return str(path)


def starting(index: int, total: int, notebook: str, previous: dict[str, float]) -> str:
    """``[run_all] [3/14] 02_table1_linear: about 1 min 05 s (its last run here)``."""
    estimate = (f"about {duration(previous[notebook])} (its last run here)" if notebook in previous
                else "no estimate (it has not run here before)")
    return f"{TAG} [{index}/{total}] {Path(notebook).stem}: {estimate}"


def finished(index: int, total: int, notebook: str, seconds: float) -> str:
    return f"{TAG} [{index}/{total}] {Path(notebook).stem} done in {duration(seconds)}"


def overview(total: int, profile: str, results_dir: Path, previous: dict[str, float], notebooks: list[str]) -> str:
    """The first line: what runs, where it writes, and the expected time where every notebook has an estimate."""
    known = [previous[n] for n in notebooks if n in previous]
    expected = (f"; the same notebooks took {duration(sum(known))} in the last run here" if len(known) == len(notebooks)
                else "")
    return (f"{TAG} {total} notebook{'s' if total > 1 else ''}, profile {profile}, results in "
            f"{shown_path(results_dir)}{expected}")


def closing(results_dir: Path, started: float, n_notebooks: int, notice: str) -> list[str]:
    """The last lines of a successful run that began at ``started`` (``time.time()``): time taken, the report
    (written by this run or not), and what its numbers mean."""
    report = results_dir / "REPORT.md"
    lines = [f"{TAG} {n_notebooks} notebook{'s' if n_notebooks > 1 else ''} done in {duration(time.time() - started)}; "
             f"manifest: {shown_path(results_dir / 'manifest.json')}"]
    if report.exists() and report.stat().st_mtime >= started:
        lines.append(f"{TAG} Report: {shown_path(report)} (headline verdicts first, then every table and figure)")
    elif report.exists():
        lines.append(f"{TAG} REPORT.md was not rewritten (notebook 13 did not run); the last one: {shown_path(report)}")
    if notice:
        lines.append(f"{TAG} {notice}")
    return lines
