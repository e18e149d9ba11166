"""One truth per number: a REPORT.md's captions, counts and verdicts agree with the rows beside it
(``tests/report_checks.py``), and the check catches each contradiction it was written for.

The smoke report is checked where the slow pipeline test generates it (``test_pipeline.py``); the committed
cpu-study report here, and a report written by the current code from the committed cpu-study rows (nothing
recomputed) here too, doctored copies of it included.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from ecgjepa_core.paths import REPO_ROOT
from ecgjepa_core.report.claims import load_record_stats, load_test_scores, read_table
from ecgjepa_core.report.markdown import MIXED_MARK
from ecgjepa_core.study.learning_curves import verdicts, write_verdicts
from ecgjepa_core.study.registry import TABLES, write_report, write_table_files
from ecgjepa_core.report.results import TableResult
from ecgjepa_core.study.study import Study

from .report_checks import contradictions, sections

COMMITTED = REPO_ROOT / "results" / "cpu-study"


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory):
    """The committed cpu-study rows and scores, their table files, learning-curve verdicts and REPORT.md written
    again by the current code in a temporary folder."""
    folder = tmp_path_factory.mktemp("cpu-study")
    shutil.copytree(COMMITTED, folder, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("notebooks", "encoders", "figures"))
    study = Study("cpu-study", folder, overrides={"evaluation.bootstrap": 200}, progress=False)
    for spec in TABLES:
        rows = read_table(folder, spec.name)
        write_table_files(study, TableResult(spec.name, rows, load_test_scores(folder, spec.name),
                                             load_record_stats(folder, spec.name)))
    curves, runs = pd.read_csv(folder / "learning_curves.csv"), pd.read_csv(folder / "pretraining_runs.csv")
    first = runs[runs["variant"] == curves["run"].iloc[0]].iloc[0]
    write_verdicts(folder, verdicts(curves, int(first["steps"]), int(first["corpus_records"]),
                                    study.profile.model.embed_dim))
    write_report(study)
    return folder


def test_a_report_written_from_the_committed_rows_says_one_thing_per_number(rewritten):
    assert contradictions(rewritten) == []
    report = (rewritten / "REPORT.md").read_text()
    table1 = sections(report)["Table 1 · Linear evaluation"]
    assert "raw features" in table1 and "Shown: PTB-XL paper split" in table1
    assert "ECG-JEPA_rb, ECG-JEPA_mb: the mean over 3 pretraining seeds" in table1
    runs = pd.read_csv(rewritten / "pretraining_runs.csv")
    assert f"Pretraining: {len(runs)} runs" in report
    assert "mean ± sd over 3 draws" in sections(report)["Table 3 · Low-shot linear evaluation"]


def _section_line(text: str, title: str, start: str, new: str) -> str:
    """``text`` with the first line of section ``title`` that starts with ``start`` replaced by ``new``."""
    head, body = text.split(f"## {title}\n", 1)
    body, rest = body.split("\n## ", 1)
    lines = body.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(start))
    return head + f"## {title}\n" + "\n".join(lines[:i] + [new] + lines[i + 1:]) + "\n## " + rest


def _headline_value_off(text: str, claim: str) -> str:
    """``text`` with the first value of the claim's "ours" cell in the headline moved to a value the report shows
    nowhere."""
    header = next(x for x in text.splitlines() if x.startswith("| claim |"))
    line = next(x for x in text.splitlines() if x.startswith(f"| {claim}"))
    cells = line.split(" | ")
    ours = cells[[c.strip() for c in header.split("|")].index("ours") - 1]
    value = ours.split(" vs ")[0]
    new = next(f"{float(value) - k / 1000:.3f}" for k in range(3, 200) if f"{float(value) - k / 1000:.3f}" not in text)
    cells[cells.index(ours)] = ours.replace(value, new, 1)
    return text.replace(line, " | ".join(cells), 1)


TABLE1, TABLE3 = "Table 1 · Linear evaluation", "Table 3 · Low-shot linear evaluation"
DOCTORED = {
    # each: the contradiction of the committed cpu-study edition put back, and what the check must say
    "runs counted as if all were main runs": (
        lambda t: re.sub(r"(Pretraining: \d+ runs)[^\n]*? on ", r"\1 of 99 epochs on ", t, count=1),
        "the provenance sentence says"),
    "± promised over probe seeds, no sd shown": (
        lambda t: _section_line(t, TABLE1, "Frozen encoder", "Frozen mean-pooled representations, linear head; "
                                                            "mean ± sd over 3 probe seeds."),
        "speaks of ± but no cell shows one"),
    "the mean over draws shown without its sd": (
        lambda t: re.sub(r"(\| 0\.\d{3}) ± 0\.\d{3}", r"\1", t),
        "speaks of ± but no cell shows one"),
    "what the rows are a mean over": (
        lambda t: _section_line(t, TABLE1, "Numbers:", "Numbers: every row: the mean over 3 probe seeds, 95 % CI "
                                                       "over test records."),
        "its rows are means over 3 pretraining seeds"),
    "raw-feature rows promised, left out": (
        lambda t: "\n".join(line for line in t.splitlines() if "raw features (authors' probe) |" not in line),
        "promises the raw-feature rows"),
    "the split shown not named": (
        lambda t: _section_line(t, TABLE1, "Shown:", "Shown: PTB-XL standard split, CPSC2018 5-fold CV."),
        "PTB-XL paper split is shown"),
    "a headline value its table does not show": (
        lambda t: _headline_value_off(t, "Multi-block masking beats random masking"),
        "is not in Table 1"),
    "mixed provenance below the headline": (
        lambda t: t.replace("## Every pretraining run", f"{MIXED_MARK}\n\n- seed differs\n\n## Every pretraining run"),
        "mixed-provenance notice is not at the top"),
}


@pytest.mark.parametrize("name", DOCTORED)
def test_each_contradiction_put_back_is_caught(rewritten, tmp_path, name):
    doctor, said = DOCTORED[name]
    copy = tmp_path / "report"
    shutil.copytree(rewritten, copy)
    text = (copy / "REPORT.md").read_text()
    changed = doctor(text)
    assert changed != text, "the doctoring found nothing to change"
    (copy / "REPORT.md").write_text(changed)
    found = contradictions(copy)
    assert any(said in problem for problem in found), found


def test_a_trend_read_from_a_probe_at_chance_is_caught(rewritten, tmp_path):
    """The smoke edition concluded 'more pretraining would not raise the probes' from probes at AUC 0.500."""
    copy = tmp_path / "report"
    shutil.copytree(rewritten, copy)
    curves = pd.read_csv(copy / "learning_curves.csv")
    curves.assign(probe_val_auc=0.5).to_csv(copy / "learning_curves.csv", index=False)
    report = copy / "REPORT.md"
    text = report.read_text(encoding="utf-8")
    beyond = next(line for line in text.splitlines() if "Beyond this scale" in line)
    # plant the smoke edition's conclusion, whatever the committed report concluded
    report.write_text(text.replace(beyond, beyond + " More of the same pretraining would not raise the probes."),
                      encoding="utf-8")
    found = contradictions(copy)
    assert any("has no trend to read" in p for p in found) and any("concludes about longer" in p for p in found), found


def test_the_committed_cpu_study_report_says_one_thing_per_number():
    assert contradictions(COMMITTED) == []
