"""Splits: paper and standard PTB-XL splits, CPSC paper split refusal, seeded multi-label k-fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.data import Cpsc2018Reader, PtbxlReader
from ecgjepa_core.data.labels import CPSC2018_CODES
from ecgjepa_core.data.splits import (
    SplitImpossible, cpsc_paper_split, iterative_stratification, paper_split, ptbxl_paper_split,
    ptbxl_standard_split, stratified_kfold,
)

from ._helpers import sample


@pytest.fixture(scope="module")
def ptbxl_index() -> pd.DataFrame:
    return PtbxlReader(sample("ptbxl")).index()


def test_ptbxl_paper_split(ptbxl_index):
    split = paper_split("ptbxl", ptbxl_index)
    assert sorted(split.test, key=int) == ["9", "9867", "14647"]  # the strat_fold 10 records
    assert len(split.train) == 7 and split.val == ()
    assert "fold 10 test (3 records)" in split.description and "1-9 train (7 records)" in split.description


def test_ptbxl_standard_split(ptbxl_index):
    split = ptbxl_standard_split(ptbxl_index)
    folds = ptbxl_index.set_index("record_id")["strat_fold"]
    assert set(folds[list(split.val)]) == {9} and set(folds[list(split.test)]) == {10}
    assert set(folds[list(split.train)]) <= set(range(1, 9))
    assert "fold 9 validation" in split.description


def test_ptbxl_paper_split_without_fold_10_is_refused(ptbxl_index):
    with pytest.raises(SplitImpossible, match="stratified_kfold"):
        ptbxl_paper_split(ptbxl_index[ptbxl_index["strat_fold"] != 10])


def test_cpsc_paper_split_without_g7_tells_to_use_kfold():
    index = Cpsc2018Reader(sample("cpsc2018")).index()
    with pytest.raises(SplitImpossible, match=r"test \(g7\).*stratified_kfold"):
        cpsc_paper_split(index)
    with_g7 = index.assign(folder=["g7" if i < 3 else "g1" for i in range(len(index))])
    assert len(cpsc_paper_split(with_g7).test) == 3


def test_kfold_partitions_records_and_is_seeded():
    index = Cpsc2018Reader(sample("cpsc2018")).index()
    splits = stratified_kfold(index, list(CPSC2018_CODES), k=3, seed=1, dataset="CPSC2018 g1")
    tests = [set(s.test) for s in splits]
    assert set().union(*tests) == set(index["record_id"]) and sum(map(len, tests)) == len(index)
    assert all(set(s.train) == set(index["record_id"]) - set(s.test) for s in splits)
    assert "stratified 3-fold" in splits[0].description and "seed 1" in splits[0].description
    again = stratified_kfold(index, list(CPSC2018_CODES), k=3, seed=1)
    assert [s.test for s in again] == [s.test for s in splits]
    other = stratified_kfold(index, list(CPSC2018_CODES), k=3, seed=2)
    assert [s.test for s in other] != [s.test for s in splits]


def test_iterative_stratification_balances_each_label():
    rng = np.random.default_rng(0)
    labels = rng.random((200, 6)) < [0.5, 0.3, 0.1, 0.05, 0.2, 0.4]
    fold = iterative_stratification(labels, k=5, seed=0)
    per_fold = np.stack([labels[fold == f].sum(axis=0) for f in range(5)])
    expected = labels.sum(axis=0) / 5
    assert (np.abs(per_fold - expected) <= 1.5).all()
    assert np.bincount(fold).max() - np.bincount(fold).min() <= 2


@pytest.mark.shared
def test_kfold_on_the_150_real_cpsc_records(shared_data):
    index = Cpsc2018Reader(shared_data / "cpsc2018").index()
    splits = stratified_kfold(index, list(CPSC2018_CODES), k=5, seed=0)
    counts = np.stack([index.set_index("record_id").loc[list(s.test), list(CPSC2018_CODES)].sum() for s in splits])
    assert (counts.max(axis=0) - counts.min(axis=0) <= 1).all()  # every class spread evenly
