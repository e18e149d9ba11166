"""Label vocabularies and multi-hot encodings: PTB-XL statement groups and the 9 CPSC2018 classes.

PTB-XL (docs/data.md §3): a record's label set is built from *every* SCP code in its
``scp_codes`` dict, whatever its likelihood (0 included), as in PTB-XL's own benchmark code.
Tasks, each defined by columns of ``scp_statements.csv``:

* ``superdiagnostic``: diagnostic == 1 codes mapped to ``diagnostic_class`` → [CD, HYP, MI, NORM, STTC]
* ``subdiagnostic``: diagnostic == 1 codes mapped to ``diagnostic_subclass``
* ``diagnostic`` / ``form`` / ``rhythm``: the codes with that column == 1
* ``all``: all 71 statements

Classes are always sorted as strings, so the column order does not depend on the data.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.data.records import DatasetError, read_metadata_csv

PTBXL_SUPERCLASSES: tuple[str, ...] = ("CD", "HYP", "MI", "NORM", "STTC")
PTBXL_TASKS: tuple[str, ...] = ("superdiagnostic", "subdiagnostic", "diagnostic", "form", "rhythm", "all")

# docs/data.md §4: SNOMED CT codes sorted as strings, with the usual abbreviation.
CPSC2018_CLASSES: tuple[tuple[str, str], ...] = (
    ("164884008", "PVC"),
    ("164889003", "AF"),
    ("164909002", "LBBB"),
    ("164931005", "STE"),
    ("270492004", "I-AVB"),
    ("284470004", "PAC"),
    ("426783006", "NSR"),
    ("429622005", "STD"),
    ("59118001", "RBBB"),
)
CPSC2018_CODES: tuple[str, ...] = tuple(code for code, _ in CPSC2018_CLASSES)


def parse_scp_codes(text: str, where: str) -> dict[str, float]:
    """``"{'NORM': 100.0, 'SR': 0.0}"`` → dict; DatasetError naming ``where`` if it is not such a dict."""
    try:
        codes = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise DatasetError(where, f"scp_codes is not a Python dict literal: {str(text)[:80]!r}") from None
    if not isinstance(codes, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) for k, v in codes.items()
    ):
        raise DatasetError(where, f"scp_codes must map statement codes to likelihoods: {str(text)[:80]!r}")
    return codes


def ptbxl_code_to_class(statements: pd.DataFrame, task: str) -> pd.Series:
    """Map SCP code → class name for ``task`` (index: the codes that count for the task)."""
    column = {"superdiagnostic": "diagnostic_class", "subdiagnostic": "diagnostic_subclass"}
    if task in column:
        mapped = statements.loc[statements["diagnostic"] == 1, column[task]]
        return mapped.dropna()
    if task in ("diagnostic", "form", "rhythm"):
        codes = statements.index[statements[task] == 1]
    elif task == "all":
        codes = statements.index
    else:
        raise ValueError(f"unknown PTB-XL task {task!r}; choose one of {PTBXL_TASKS}")
    return pd.Series(codes, index=codes)


def ptbxl_classes(statements: pd.DataFrame, task: str) -> tuple[str, ...]:
    """The sorted class names of ``task`` (5 for superdiagnostic, 71 for all, …)."""
    return tuple(sorted(set(ptbxl_code_to_class(statements, task))))


def ptbxl_multi_hot(scp_codes: Iterable[dict[str, float]], statements: pd.DataFrame, task: str) -> pd.DataFrame:
    """(N, C) int8 multi-hot of ``task`` for each record's scp_codes dict; columns = ``ptbxl_classes``."""
    code_to_class = ptbxl_code_to_class(statements, task).to_dict()
    classes = ptbxl_classes(statements, task)
    column = {c: j for j, c in enumerate(classes)}
    rows = list(scp_codes)
    labels = np.zeros((len(rows), len(classes)), dtype=np.int8)
    for i, codes in enumerate(rows):
        for code in codes:  # likelihood ignored on purpose (docs/data.md §3)
            if code in code_to_class:
                labels[i, column[code_to_class[code]]] = 1
    return pd.DataFrame(labels, columns=list(classes))


def unknown_scp_codes(scp_codes: dict[str, dict[str, float]], statements: pd.DataFrame) -> dict[str, list[str]]:
    """Codes of the records' scp_codes (record id → dict) absent from ``statements`` → ids of their records."""
    known = set(statements.index)
    unknown: dict[str, list[str]] = {}
    for record_id, codes in scp_codes.items():
        for code in codes:
            if code not in known:
                unknown.setdefault(code, []).append(record_id)
    return unknown


def read_scp_statements(path: Path) -> pd.DataFrame:
    """``scp_statements.csv`` indexed by code; DatasetError if missing or without the needed columns."""
    table = read_metadata_csv(path, ["diagnostic", "form", "rhythm", "diagnostic_class", "diagnostic_subclass"],
                              index_col=0)
    if repeated := sorted(set(table.index[table.index.duplicated()].astype(str))):
        raise DatasetError(path, f"statement codes listed twice: {repeated[:5]}")
    flags = table[["diagnostic", "form", "rhythm"]]
    if bad := [c for c in flags if not pd.to_numeric(flags[c], errors="coerce").fillna(0).isin([0, 1]).all()
               or pd.to_numeric(flags[c], errors="coerce").isna().sum() != flags[c].isna().sum()]:
        raise DatasetError(path, f"columns {bad} must hold 1, 0 or nothing")
    return table


def cpsc_multi_hot(codes: Iterable[str]) -> np.ndarray:
    """(9,) int8 multi-hot in CPSC2018_CODES order; codes outside the 9 are ignored (callers check first)."""
    present = set(codes)
    return np.array([code in present for code in CPSC2018_CODES], dtype=np.int8)


def single_label_targets(multi_hot: pd.DataFrame) -> pd.Series:
    """Class index of each row with exactly one positive class (the paper's multi-class variant)."""
    single = multi_hot[multi_hot.sum(axis=1) == 1]
    return pd.Series(single.to_numpy().argmax(axis=1), index=single.index, name="target")


def parse_dx(text: str) -> tuple[str, ...]:
    """``'164889003, 59118001'`` → ``('164889003', '59118001')`` (the ``Dx:`` header comment; empty → ())."""
    return tuple(code.strip() for code in text.split(",") if code.strip())
