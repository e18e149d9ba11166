"""Tables put the paper's value beside ours, looked up, never typed in; flags, compact views, the report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ecgjepa_core.report import provenance
from ecgjepa_core.report.markdown import compact_view, format_cell, paper_gap, write_plain_table, write_report, write_table
from ecgjepa_core.report.results import classification_cells, to_frame

KEY = dict(encoder="pretrained here: mb", split="paper split", protocol="linear", ablation="")
IDENT = {"commit": "a" * 40, "dirty": False, "profile": "smoke", "seed": 0, "overrides": {}, "encoders": {}}


def _row(method="ECG-JEPA_mb", dataset="PTB-XL", task="multi-label", metric="AUC", ours=0.8, **extra):
    return dict(method=method, dataset=dataset, task=task, metric=metric, ours=ours, **KEY,
                paper_key={"method": method, "dataset": dataset, "task": task, "metric": metric.split(" (")[0],
                           "setting": ""}, **extra)


def test_paper_value_and_difference_are_looked_up():
    df = to_frame("linear", [_row(sd=0.01), _row(method="Random init", ours=0.6), {**_row(), "paper_key": None}])
    assert df.loc[0, "paper"] == 0.912 and math.isclose(df.loc[0, "difference"], 0.8 - 0.912)
    assert math.isnan(df.loc[1, "paper"]) and math.isnan(df.loc[1, "difference"])
    assert math.isnan(df.loc[2, "paper"])  # no published counterpart: None, not a guess


def test_paper_key_names_the_cell():
    df = to_frame("low_shot", [{**_row(method="ECG-JEPA_rb", ours=0.7),
                                "paper_key": {"method": "ECG-JEPA_rb", "dataset": "PTB-XL", "task": "multi-label",
                                              "metric": "AUC", "setting": "1%"}}])
    assert df.loc[0, "paper"] == 0.836 and df.loc[0, "paper_sd"] == 0.006


def test_flagged_row_keeps_the_paper_value_but_gets_no_difference():
    df = to_frame("linear", [_row(flags="3 of 5 classes scorable in the test set")])
    assert df.loc[0, "paper"] == 0.912 and math.isnan(df.loc[0, "difference"])
    assert "⚑" in compact_view(df).iloc[0]["AUC"]


def test_absent_classes_and_one_decision_are_flagged():
    rng = np.random.default_rng(0)
    y = np.array([0, 3, 4, 0, 3, 4, 0, 3])  # classes 1 and 2 have no test record
    scores = rng.random((2, len(y), 5))
    cells = {c["metric"]: c for c in classification_cells("multi-class", y, scores, 5, 50, 0, "probe seeds")}
    assert cells["AUC (one-vs-rest)"]["flags"] == "3 of 5 classes scorable in the test set"
    names = ("CD", "HYP", "MI", "NORM", "STTC")
    named = classification_cells("multi-class", y, scores, 5, 0, 0, "", class_names=names)[0]["flags"]
    assert named == ("3-class task (CD 3 / NORM 3 / STTC 2 test records; no other of the 5 classes), "
                     "not the paper's 5-class task")
    constant = np.zeros((1, len(y), 5))
    constant[..., 0] = 1.0  # "always class 0"
    cells = {c["metric"]: c for c in classification_cells("multi-class", y, constant, 5, 0, 0, "")}
    assert "one decision for every test record" in cells["F1"]["flags"]
    assert "one decision" not in cells["AUC (one-vs-one)"]["flags"]  # AUC does not depend on the decision


def test_interval_belongs_to_the_mean_it_stands_beside():
    rng = np.random.default_rng(1)
    y = (rng.random((120, 3)) < 0.4).astype(int)
    scores = np.stack([y + rng.normal(scale=s, size=y.shape) for s in (0.6, 1.5, 3.0)])  # seeds differ a lot
    auc = next(c for c in classification_cells("multi-label", y, scores, 3, 300, 0, "probe seeds")
               if c["metric"] == "AUC")
    assert auc["ci_low"] <= auc["ours"] <= auc["ci_high"] and auc["sd"] > 0.05
    assert auc["ci_over"].startswith("test records") and auc["sd_over"] == "probe seeds"


def test_format_cell():
    assert format_cell(0.81234, 0.0101, 0.78, 0.84) == "0.812 ± 0.010 [0.780, 0.840]"
    assert format_cell(0.5) == "0.500"


def test_paper_gap_never_mixes_metrics():
    df = to_frame("linear", [_row(), _row(metric="F1", ours=0.5)])
    text = paper_gap(df)
    assert "AUC -0.112 (mean of 1;" in text and "F1 " in text


def test_written_table_and_report(tmp_path):
    df = to_frame("linear", [_row(dataset="CPSC2018", task="multi-class", metric="F1", ours=0.7,
                                  ci_low=0.6, ci_high=0.8, method="ECG-JEPA_rb")])
    csv, md = write_table(df, tmp_path, "table1_linear", "Table 1", "Linear probe; toy scale.", IDENT)
    assert pd.read_csv(csv).loc[0, "paper"] == 0.805
    text = md.read_text()
    assert "0.700 [0.600, 0.800] · 0.805" in text and "Linear probe; toy scale." in text
    assert "Computed at commit aaaaaaaaaaaa, profile `smoke`, seed 0" in text
    report = write_report(tmp_path, "smoke", ["table1_linear", "table9_missing"], ["subset of PTB-XL"],
                          headline="| claim | verdict |")
    body = report.read_text()
    assert body.index("## Headline") < body.index("## Table 1") < body.index("## Deviations")
    assert "subset of PTB-XL" in body and "(not produced in this run)" in body


def test_provenance_differences_name_the_tables():
    same = {"table1_linear": IDENT, "table2_finetune": dict(IDENT)}
    assert provenance.differences(same) == []
    mixed = {**same, "table3_low_shot": {**IDENT, "seed": 1}}
    (line,) = provenance.differences(mixed)
    assert line == "seed differs: 0 in table1_linear, table2_finetune; 1 in table3_low_shot"


def test_every_key_a_caption_names_is_an_override_key():
    """The 'Protocol keys' of each table's caption are keys `-p overrides` takes (a misspelt one would fail there)."""
    from ecgjepa_core.study.overrides import overridable_keys
    from ecgjepa_core.study.profiles import get_profile
    from ecgjepa_core.study.registry import TABLES

    valid = set(overridable_keys(get_profile("smoke")))
    assert all(spec.keys for spec in TABLES)
    assert {key for spec in TABLES for key in spec.keys} - valid == set()


def test_a_plain_table_told_apart_by_method_keeps_it_in_markdown(tmp_path):
    frame = pd.DataFrame({"method": ["ECG-JEPA_rb", "ECG-JEPA_mb"], "run": ["rb-1", "mb-2"], "val_auc": [0.8, 0.7]})
    _, runs_md = write_plain_table(frame, tmp_path, "runs", "Runs")  # the runs table: its variant names the method
    assert "ECG-JEPA_rb" not in runs_md.read_text()
    _, md = write_plain_table(frame, tmp_path, "recipes", "Recipes", hidden=("run",))
    assert "| ECG-JEPA_rb |" in md.read_text() and "rb-1" not in md.read_text()
