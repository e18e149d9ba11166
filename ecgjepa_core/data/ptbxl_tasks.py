"""The PTB-XL task set of Weimann & Conrad's evaluation: all, diagnostic, subdiagnostic,
superdiagnostic, form, rhythm and single-label superdiagnostic ("ST-MEM", after Na et al. 2024).

Labels follow PTB-XL's benchmark code as their ``finetune.py`` calls it (``min_samples=0``): the
statements of a record are every code it carries (likelihood ignored), aggregated per task by the
columns of ``scp_statements.csv`` (``labels.ptbxl_multi_hot``); the classes are those present in
the records given, sorted; records without any class of the task are left out. ST-MEM keeps the
superdiagnostic records with exactly one class and gives class indices (softmax cross-entropy).

Two sources: the study's subset (``statements.csv``: one 0/1 column per statement, ``records.csv``
for the folds, rows in the order of the signal array) and the full dataset (``ptbxl_database.csv``
``scp_codes``). Both need the official ``scp_statements.csv``; the shipped sample holds a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.data.labels import parse_scp_codes, ptbxl_multi_hot, read_scp_statements, single_label_targets
from ecgjepa_core.data.records import DatasetError, read_metadata_csv
from ecgjepa_core.paths import SAMPLE_DIR

WEIMANN_TASKS: tuple[str, ...] = ("all", "diagnostic", "subdiagnostic", "superdiagnostic", "form", "rhythm", "ST-MEM")
SHIPPED_SCP_STATEMENTS = SAMPLE_DIR / "ptbxl" / "scp_statements.csv"


@dataclass
class PTBXLTask:
    """One task's labelled records. ``rows`` index the source's records (the subset's array rows)."""

    name: str
    rows: np.ndarray              # (N,) int positions in the source
    ecg_ids: np.ndarray           # (N,) int
    folds: np.ndarray             # (N,) int, PTB-XL strat_fold 1-10
    classes: tuple[str, ...]
    y: np.ndarray                 # (N, K) int8 multi-hot, or (N,) int64 class indices for ST-MEM

    @property
    def kind(self) -> str:
        """``multilabel`` or ``multiclass`` (the evaluation layer's task kinds)."""
        return "multiclass" if self.y.ndim == 1 else "multilabel"

    def split(self, val_fold: int = 9, test_fold: int = 10) -> dict[str, np.ndarray]:
        """Boolean masks over the N records: their folds 1-8 train, 9 validation, 10 test by default."""
        val, test = self.folds == val_fold, self.folds == test_fold
        return {"train": ~(val | test), "val": val, "test": test}


def build_task(task: str, scp_codes: list[dict[str, float]], ecg_ids: np.ndarray, folds: np.ndarray,
               statements: pd.DataFrame) -> PTBXLTask:
    """The task's labels from each record's statement codes (aggregated as the module docstring says)."""
    if task not in WEIMANN_TASKS:
        raise ValueError(f"unknown PTB-XL task {task!r}; choose one of {WEIMANN_TASKS}")
    multi_hot = ptbxl_multi_hot(scp_codes, statements, "superdiagnostic" if task == "ST-MEM" else task)
    multi_hot = multi_hot.loc[:, multi_hot.sum(axis=0) > 0]
    labelled = multi_hot[multi_hot.sum(axis=1) > 0]
    if task == "ST-MEM":
        target = single_label_targets(labelled)
        rows, y = target.index.to_numpy(), target.to_numpy().astype(np.int64)
    else:
        rows, y = labelled.index.to_numpy(), labelled.to_numpy()
    return PTBXLTask(task, rows, np.asarray(ecg_ids)[rows], np.asarray(folds)[rows], tuple(multi_hot.columns), y)


def subset_task(folder: Path | str, task: str, scp_statements: Path | str = SHIPPED_SCP_STATEMENTS) -> PTBXLTask:
    """A task on the study's subset (``statements.csv`` + ``records.csv`` in ``folder``)."""
    folder = Path(folder)
    records = read_metadata_csv(folder / "records.csv", ["ecg_id", "strat_fold"])
    flags = read_metadata_csv(folder / "statements.csv", ["ecg_id"])
    if not np.array_equal(records["ecg_id"].to_numpy(), flags["ecg_id"].to_numpy()):
        raise DatasetError(folder / "statements.csv", "ecg_id column is not in the order of records.csv")
    statements = read_scp_statements(Path(scp_statements))
    codes = flags.drop(columns="ecg_id")
    if unknown := sorted(set(codes.columns) - set(statements.index)):
        raise DatasetError(folder / "statements.csv", f"statement columns not in {scp_statements}: {unknown[:5]}")
    if not codes.isin([0, 1]).all().all():
        raise DatasetError(folder / "statements.csv", "statement columns must hold 0 or 1")
    present = [dict.fromkeys(codes.columns[row.astype(bool)], 1.0) for row in codes.to_numpy()]
    return build_task(task, present, records["ecg_id"].to_numpy(), records["strat_fold"].to_numpy(), statements)


def database_task(root: Path | str, task: str) -> PTBXLTask:
    """A task on the full PTB-XL (``ptbxl_database.csv`` + ``scp_statements.csv`` in ``root``); rows
    are positions in ``ptbxl_database.csv``."""
    root = Path(root)
    path = root / "ptbxl_database.csv"
    table = read_metadata_csv(path, ["ecg_id", "strat_fold", "scp_codes"])
    codes = [parse_scp_codes(text, f"{path} (ecg_id {i})") for text, i in zip(table["scp_codes"], table["ecg_id"])]
    return build_task(task, codes, table["ecg_id"].to_numpy(), table["strat_fold"].to_numpy(),
                      read_scp_statements(root / "scp_statements.csv"))
