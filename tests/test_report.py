"""Tables put the paper's value and the difference beside ours, looked up, never typed in."""

from __future__ import annotations

import math

import pandas as pd

from ecgjepa_core.report.markdown import compare_with_paper, format_cell, write_report, write_table


def test_paper_value_and_difference_are_looked_up():
    df = compare_with_paper("linear", [
        dict(method="ECG-JEPA_mb", dataset="PTB-XL", task="multi-label", metric="AUC", ours=0.8, sd=0.01,
             protocol="toy"),
        dict(method="random init", dataset="PTB-XL", task="multi-label", metric="AUC", ours=0.6),
    ])
    assert df.loc[0, "paper"] == 0.912
    assert math.isclose(df.loc[0, "difference"], 0.8 - 0.912)
    assert math.isnan(df.loc[1, "paper"]) and math.isnan(df.loc[1, "difference"])


def test_paper_key_overrides_our_labels():
    df = compare_with_paper("low_shot", [dict(method="ECG-JEPA_rb", dataset="PTB-XL", task="multi-label",
                                              metric="AUC", setting="1% (paper split)", ours=0.7,
                                              paper_key={"setting": "1%"})])
    assert df.loc[0, "paper"] == 0.836 and df.loc[0, "paper_sd"] == 0.006


def test_format_cell():
    assert format_cell(0.81234, 0.0101, 0.78, 0.84) == "0.812 ± 0.010 [0.780, 0.840]"
    assert format_cell(0.5) == "0.500"


def test_written_table_and_report(tmp_path):
    df = compare_with_paper("linear", [dict(method="ECG-JEPA_rb", dataset="CPSC2018", task="multi-class",
                                            metric="F1", ours=0.7, ci_low=0.6, ci_high=0.8)])
    csv, md = write_table(df, tmp_path, "table1_linear", "Table 1", notes=["toy scale"])
    assert pd.read_csv(csv).loc[0, "paper"] == 0.805
    text = md.read_text()
    assert "0.700 [0.600, 0.800]" in text and "0.805" in text and "- toy scale" in text
    report = write_report(tmp_path, "smoke", ["table1_linear", "table9_missing"], ["subset of PTB-XL"])
    body = report.read_text()
    assert "Table 1" in body and "subset of PTB-XL" in body and "(not produced in this run)" in body
