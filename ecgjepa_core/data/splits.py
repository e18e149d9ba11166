"""Train/validation/test splits, each carrying a sentence that says what it is (for tables).

* paper split: PTB-XL strat_fold 1–9 train / 10 test; CPSC2018 g1–g6 train / g7 test (docs/data.md §3, §4).
* standard PTB-XL split: folds 1–8 train / 9 validation / 10 test.
* stratified k-fold, for data where the paper split is impossible (e.g. only CPSC g1): iterative
  stratification (Sechidis, Tsoumakas & Vlahavas 2011), multi-label aware and seeded.

A split holds ``record_id`` values of a reader's ``index()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class SplitImpossible(ValueError):
    """The requested split cannot be formed from these records (e.g. no CPSC g7)."""


@dataclass(frozen=True)
class Split:
    name: str
    description: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    val: tuple[str, ...] = ()


def _ids(index: pd.DataFrame, mask: pd.Series) -> tuple[str, ...]:
    return tuple(index.loc[mask, "record_id"].astype(str))


def _require_column(index: pd.DataFrame, column: str, dataset: str) -> None:
    if column not in index.columns:
        raise SplitImpossible(f"{dataset} index has no {column!r} column; use stratified_kfold instead")


def _require_parts(name: str, parts: dict[str, tuple[str, ...]], hint: str) -> None:
    if empty := [part for part, ids in parts.items() if not ids]:
        raise SplitImpossible(f"{name}: no records for {', '.join(empty)} ({hint}); "
                              "use stratified_kfold(index, label_columns, k, seed) instead")


def ptbxl_paper_split(index: pd.DataFrame) -> Split:
    """PTB-XL strat_fold 1–9 train, 10 test, no validation (the paper's split)."""
    _require_column(index, "strat_fold", "PTB-XL")
    fold = index["strat_fold"]
    train, test = _ids(index, fold.between(1, 9)), _ids(index, fold == 10)
    _require_parts("PTB-XL paper split", {"train (folds 1-9)": train, "test (fold 10)": test}, "folds absent")
    return Split("ptbxl_paper", f"paper split: PTB-XL strat_fold 1-9 train ({len(train)} records), "
                 f"fold 10 test ({len(test)} records), no validation set", train, test)


def ptbxl_standard_split(index: pd.DataFrame) -> Split:
    """PTB-XL strat_fold 1–8 train, 9 validation, 10 test (PTB-XL's recommended split)."""
    _require_column(index, "strat_fold", "PTB-XL")
    fold = index["strat_fold"]
    train, val, test = _ids(index, fold.between(1, 8)), _ids(index, fold == 9), _ids(index, fold == 10)
    _require_parts("PTB-XL standard split", {"train (folds 1-8)": train, "validation (fold 9)": val,
                                             "test (fold 10)": test}, "folds absent")
    return Split("ptbxl_standard", f"standard PTB-XL split: strat_fold 1-8 train ({len(train)} records), "
                 f"fold 9 validation ({len(val)}), fold 10 test ({len(test)})", train, test, val)


def cpsc_paper_split(index: pd.DataFrame) -> Split:
    """CPSC2018 folders g1–g6 train, g7 test (the paper's split)."""
    _require_column(index, "folder", "CPSC2018")
    folder = index["folder"]
    train = _ids(index, folder.isin([f"g{k}" for k in range(1, 7)]))
    test = _ids(index, folder == "g7")
    _require_parts("CPSC2018 paper split", {"train (g1-g6)": train, "test (g7)": test},
                   f"folders present: {sorted(folder.unique())}")
    return Split("cpsc2018_paper", f"paper split: CPSC2018 folders g1-g6 train ({len(train)} records), "
                 f"g7 test ({len(test)} records), no validation set", train, test)


def paper_split(dataset: str, index: pd.DataFrame) -> Split:
    """The paper's split of ``dataset`` ('ptbxl' or 'cpsc2018'), or SplitImpossible."""
    splits = {"ptbxl": ptbxl_paper_split, "cpsc2018": cpsc_paper_split}
    if dataset not in splits:
        raise SplitImpossible(f"the paper defines no split for {dataset!r}; use stratified_kfold")
    return splits[dataset](index)


def iterative_stratification(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """(N,) fold number 0…k−1 per row of an (N, C) 0/1 label matrix, balancing every label over folds.

    Sechidis et al. 2011: repeatedly take the label with the fewest unassigned positives and
    deal its rows to the folds that most lack that label (ties: fold lacking most rows, then
    random). Rows without any label go to the folds lacking most rows.
    """
    labels = np.asarray(labels, dtype=bool)
    n = len(labels)
    rng = np.random.default_rng(seed)
    fold = np.full(n, -1)
    rows_wanted = np.full(k, n / k)
    labels_wanted = np.tile(labels.sum(axis=0) / k, (k, 1))

    def assign(row: int, need: np.ndarray) -> None:
        best = np.flatnonzero(need == need.max())
        best = best[rows_wanted[best] == rows_wanted[best].max()]
        f = rng.choice(best)
        fold[row] = f
        rows_wanted[f] -= 1
        labels_wanted[f] -= labels[row]

    while True:
        unassigned = fold < 0
        counts = labels[unassigned].sum(axis=0)
        if not counts.any():
            break
        label = np.flatnonzero(counts == counts[counts > 0].min())[0]
        for row in rng.permutation(np.flatnonzero(unassigned & labels[:, label])):
            assign(row, labels_wanted[:, label])
    for row in rng.permutation(np.flatnonzero(fold < 0)):
        assign(row, rows_wanted)
    return fold


def stratified_kfold(index: pd.DataFrame, label_columns: list[str], k: int = 5, seed: int = 0,
                     dataset: str = "") -> list[Split]:
    """k splits; split i tests on fold i and trains on the rest (no validation set)."""
    if not 2 <= k <= len(index):
        raise ValueError(f"k must be between 2 and the number of records ({len(index)}), got {k}")
    fold = iterative_stratification(index[list(label_columns)].to_numpy(), k, seed)
    ids = index["record_id"].astype(str).to_numpy()
    name = f"{dataset + ' ' if dataset else ''}stratified {k}-fold"
    return [
        Split(f"{name.replace(' ', '_')}_{i + 1}",
              f"{name} cross-validation (iterative multi-label stratification over {len(label_columns)} "
              f"labels, seed {seed}), fold {i + 1} of {k} as test ({int((fold == i).sum())} records), "
              f"the other {k - 1} folds train ({int((fold != i).sum())} records), no validation set",
              tuple(ids[fold != i]), tuple(ids[fold == i]))
        for i in range(k)
    ]
