import math

import pytest

from ecgjepa_core.report.paper import KEY, PAPER, TABLES, paper_cell, paper_table, paper_value


def test_every_table_present_and_keys_unique():
    assert set(PAPER["table"]) == set(TABLES)
    assert not PAPER.duplicated(KEY).any()
    assert PAPER["source"].str.len().gt(0).all()


@pytest.mark.parametrize(
    "table, key, expected",
    [
        ("linear", dict(method="ECG-JEPA_mb", dataset="PTB-XL", task="multi-label", metric="AUC"), 0.912),
        ("linear", dict(method="ECG-JEPA_mb", dataset="CPSC2018", task="multi-label", metric="F1"), 0.789),
        ("linear", dict(method="ECG-JEPA_rb", dataset="CPSC2018", task="multi-class", metric="AUC"), 0.974),
        ("linear", dict(method="CPC", dataset="CPSC2018", task="multi-label", metric="F1"), 0.091),
        ("linear", dict(method="MLAE", dataset="PTB-XL", task="multi-class", metric="F1"), 0.382),
        ("finetune", dict(method="ECG-JEPA_rb", dataset="PTB-XL", metric="F1"), 0.710),
        ("finetune", dict(method="MoCo v3", dataset="CPSC2018", metric="F1"), 0.838),
        ("low_shot", dict(method="ST-MEM", setting="10%"), 0.872),
        ("reduced_leads", dict(method="ECG-JEPA_mb", setting="II+V1", metric="F1"), 0.657),
        ("feature_regression", dict(method="CPC", task="QRS duration"), 11.55),
        ("cropa_ablation", dict(method="ECG-JEPA_mb", epochs=200, setting="cropa=no, finetune"), 0.914),
        ("masking", dict(setting="ratio=(0.7, 0.8), freq=1", metric="AUC"), 0.909),
        ("leads_8_vs_12", dict(setting="12 leads", metric="F1"), 0.699),
        ("dataset_counts", dict(dataset="PTB-XL", task="multi-class", setting="HYP/test"), 56),
        ("dataset_counts", dict(dataset="CPSC2018", task="multi-label", setting="RBBB/total"), 1854),
    ],
)
def test_spot_checks_against_spec(table, key, expected):
    assert paper_value(table, **key) == expected


def test_sd_and_label_statistics():
    assert paper_cell("low_shot", method="ECG-JEPA_mb", setting="1%")["sd"] == 0.004
    assert paper_cell("feature_regression", method="ECG-JEPA_mb", task="heart rate")["sd"] == 2.44
    hr = {s: paper_value("feature_regression", method="test labels", task="heart rate", setting=s) for s in ("P-B", "P-A")}
    assert hr == {"P-B": 70.01, "P-A": 75.01}
    assert paper_cell("feature_regression", method="test labels", task="QRS duration")["sd"] == 17.02


def test_dash_cells_are_nan_with_a_note():
    cell = paper_cell("finetune", method="CPC", dataset="PTB-XL", metric="AUC")
    assert math.isnan(cell["value"]) and "not fine-tuned" in cell["note"]
    assert math.isnan(paper_value("linear", method="MoCo v3", dataset="PTB-XL", task="multi-label", metric="AUC"))


def test_tables_are_internally_consistent():
    # The CroPA=yes rows repeat the multi-class PTB-XL linear and fine-tuning AUCs.
    for method in ("ECG-JEPA_rb", "ECG-JEPA_mb"):
        assert paper_value("cropa_ablation", method=method, setting="cropa=yes, linear") == paper_value(
            "linear", method=method, dataset="PTB-XL", task="multi-class", metric="AUC")
        assert paper_value("cropa_ablation", method=method, setting="cropa=yes, finetune") == paper_value(
            "finetune", method=method, dataset="PTB-XL", metric="AUC")
    assert paper_value("leads_8_vs_12", setting="8 leads", metric="AUC") == paper_value(
        "linear", method="ECG-JEPA_rb", dataset="PTB-XL", task="multi-label", metric="AUC")
    counts = paper_table("dataset_counts")
    for dataset, task in (("PTB-XL", "multi-label"), ("PTB-XL", "multi-class"), ("CPSC2018", "multi-label"), ("CPSC2018", "multi-class")):
        rows = counts[(counts.dataset == dataset) & (counts.task == task)].set_index("setting")["value"]
        assert rows["all/train"] + rows["all/test"] == rows["all/total"]
    mc = counts[(counts.dataset == "PTB-XL") & (counts.task == "multi-class")].set_index("setting")["value"]
    assert sum(mc[f"{c}/test"] for c in ("NORM", "MI", "STTC", "CD", "HYP")) == mc["all/test"]
    cpsc_mc = counts[(counts.dataset == "CPSC2018") & (counts.task == "multi-class")].set_index("setting")["value"]
    assert cpsc_mc.drop(["all/total", "all/train", "all/test"]).sum() == cpsc_mc["all/total"]


def test_multiclass_linear_auc_notes_the_ovo_ovr_conflict():
    cell = paper_cell("linear", method="ST-MEM", dataset="PTB-XL", task="multi-class", metric="AUC")
    assert "one-vs-one" in cell["note"]
    assert cell["source"] == "P-B Table 1 / P-A Table 2"


def test_unknown_and_ambiguous_cells_raise_clear_keyerrors():
    with pytest.raises(KeyError, match="unknown paper table"):
        paper_value("table 99")
    with pytest.raises(KeyError, match="available: .*ECG-JEPA_mb"):
        paper_value("linear", method="ECG-JEPA", metric="AUC")
    with pytest.raises(KeyError, match="also specify setting"):
        paper_value("feature_regression", method="test labels", task="heart rate")
    with pytest.raises(TypeError):
        paper_value("linear", model="ST-MEM")
