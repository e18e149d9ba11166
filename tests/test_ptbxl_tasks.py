"""PTB-XL task set (Weimann & Conrad's seven tasks) from the subset's statements.csv and from ptbxl_database.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.data.ptbxl_tasks import WEIMANN_TASKS, database_task, subset_task
from ecgjepa_core.data.records import DatasetError
from ecgjepa_core.paths import SAMPLE_DIR

SAMPLE_SUBSET = SAMPLE_DIR / "ptbxl_subset"


@pytest.mark.parametrize("task", WEIMANN_TASKS)
def test_every_task_on_the_shipped_sample(task):
    t = subset_task(SAMPLE_SUBSET, task)
    assert len(t.rows) == len(t.y) == len(t.folds) > 0
    assert list(t.classes) == sorted(t.classes)
    if task == "ST-MEM":
        assert t.kind == "multiclass" and t.y.min() >= 0 and t.y.max() < len(t.classes)
    else:
        assert t.kind == "multilabel" and t.y.shape[1] == len(t.classes)
        assert (t.y.sum(axis=1) > 0).all() and (t.y.sum(axis=0) > 0).all()  # labelled records, present classes
    masks = t.split()
    assert sum(m.sum() for m in masks.values()) == len(t.rows)
    assert set(t.folds[masks["test"]]) <= {10} and set(t.folds[masks["val"]]) <= {9}


def test_superdiagnostic_from_statements_equals_the_subsets_own_labels():
    t = subset_task(SAMPLE_SUBSET, "superdiagnostic")
    records = pd.read_csv(SAMPLE_SUBSET / "records.csv")
    assert t.classes == ("CD", "HYP", "MI", "NORM", "STTC")
    assert np.array_equal(t.rows, np.arange(len(records)))
    assert np.array_equal(t.y, records[list(t.classes)].to_numpy())


def test_single_label_keeps_records_with_exactly_one_superclass():
    multi, single = subset_task(SAMPLE_SUBSET, "superdiagnostic"), subset_task(SAMPLE_SUBSET, "ST-MEM")
    one = multi.y.sum(axis=1) == 1
    assert np.array_equal(single.rows, multi.rows[one])
    assert np.array_equal(single.y, multi.y[one].argmax(axis=1))


def test_bad_statements_file_is_named(tmp_path):
    (tmp_path / "records.csv").write_text((SAMPLE_SUBSET / "records.csv").read_text())
    flags = pd.read_csv(SAMPLE_SUBSET / "statements.csv").rename(columns={"NORM": "NOPE"})
    flags.to_csv(tmp_path / "statements.csv", index=False)
    with pytest.raises(DatasetError, match=r"statements.csv.*NOPE"):
        subset_task(tmp_path, "all")
    with pytest.raises(ValueError, match="unknown PTB-XL task"):
        subset_task(SAMPLE_SUBSET, "diagnostics")


def test_full_layout_on_the_shipped_sample():
    t = database_task(SAMPLE_DIR / "ptbxl", "superdiagnostic")
    table = pd.read_csv(SAMPLE_DIR / "ptbxl" / "ptbxl_database.csv")
    assert set(t.ecg_ids) <= set(table["ecg_id"]) and len(t.rows) > 0


def test_shared_subset_labels_agree_with_the_full_database(shared_data):
    subset, full = shared_data / "ptbxl_subset", shared_data / "ptbxl"
    sup = subset_task(subset, "superdiagnostic")
    records = pd.read_csv(subset / "records.csv")
    assert len(sup.rows) == len(records) == 1819
    assert np.array_equal(sup.y, records[list(sup.classes)].to_numpy())
    for task in WEIMANN_TASKS:
        a, b = subset_task(subset, task), database_task(full, task)
        common = sorted(set(a.ecg_ids) & set(b.ecg_ids))
        if not common:
            continue
        ia = [list(a.ecg_ids).index(i) for i in common]
        ib = [list(b.ecg_ids).index(i) for i in common]
        if task == "ST-MEM":
            assert [a.classes[k] for k in a.y[ia]] == [b.classes[k] for k in b.y[ib]]
        else:
            named = [[{c for c, v in zip(t.classes, row) if v} for row in t.y[i]] for t, i in ((a, ia), (b, ib))]
            assert named[0] == named[1], task
