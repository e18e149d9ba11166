"""One row schema for every result table, and the one object a table's results leave in.

A row is keyed by structured fields (:data:`ROW_KEY`: method, encoder, dataset, task, split,
protocol, ablation) plus the ``metric``; it holds our value with its uncertainty and says over
what each is taken: ``sd`` over ``sd_over`` (probe seeds, low-shot draws, |error|), the 95 % CI over
``ci_over`` (test records, resampled for the mean over seeds). ``flags`` marks what makes a row
incomparable with the paper (classes missing from the test set, one prediction for every record);
a flagged row has no ``difference``. The paper's value is looked up, never typed in.

:class:`TableResult` carries a table's rows and the test scores of every seed behind them, so the
figures and the paired comparisons of ``report.claims`` read exactly what the table was computed from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.errors import UserFileError, require_file
from ecgjepa_core.evaluation import resampled as R
from ecgjepa_core.evaluation.scoring import metric_functions
from ecgjepa_core.report.paper import paper_cell

ROW_KEY = ("method", "encoder", "dataset", "task", "split", "protocol", "ablation")
COLUMNS = list(ROW_KEY) + ["metric", "ours", "sd", "sd_over", "n_runs", "ci_low", "ci_high", "ci_over", "n_test",
                           "flags", "paper", "paper_sd", "difference", "details"]
NUMBER_COLUMNS = ("ours", "sd", "n_runs", "ci_low", "ci_high", "n_test", "paper", "paper_sd", "difference")

ML, MC = "multi-label", "multi-class"
TASK = {ML: "multilabel", MC: "multiclass"}
# Our metric -> (row label, the paper's metric it is compared with).
METRICS = {ML: {"auc": "AUC", "f1": "F1"},
           MC: {"auc_ovo": "AUC (one-vs-one)", "auc_ovr": "AUC (one-vs-rest)", "f1": "F1"}}
CI_OVER_SEEDS = "test records (the mean over seeds, resampled)"
CI_OVER_RUNS = "test records and {runs} (nested bootstrap of the mean)"
# A seed-mean interval redraws the pretraining runs with this offset from the record-draw seed.
RUN_DRAW_OFFSET = 7919


@dataclass(frozen=True)
class TestScores:
    """A row's test predictions: targets (N, C) or (N,), scores (S, N, C) for S seeds, data rows (N,);
    ``groups`` (S,): the pretraining run behind each score set, where a row pools several (None: one run)."""

    __test__ = False  # not a pytest class, despite its name

    y: np.ndarray
    scores: np.ndarray
    rows: np.ndarray
    groups: np.ndarray | None = None

    @property
    def n_runs(self) -> int:
        """Pretraining runs behind the row (1 where ``groups`` is None)."""
        return 1 if self.groups is None else len(np.unique(self.groups))


@dataclass
class TableResult:
    """A table's rows (:data:`COLUMNS`) and the test scores behind them, keyed by the rows' :data:`ROW_KEY`."""

    name: str
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))
    scores: dict[tuple, TestScores] = field(default_factory=dict)
    # Per-record counts (method, protocol, input, record_id, counts) where the metric pools records
    # (segmentation); its claims resample these.
    record_stats: pd.DataFrame | None = None
    # Plain tables computed alongside (name -> frame), written beside the table (e.g. representation diagnostics).
    side_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # What a table's own figure draws when it is published (segmentation: one record's ECG and segments).
    figure_data: dict | None = None

    def score_of(self, **key: str) -> TestScores:
        """The kept scores of the one row key matching ``key`` (fields of :data:`ROW_KEY`)."""
        found = [k for k in self.scores if all(dict(zip(ROW_KEY, k))[f] == v for f, v in key.items())]
        if len(found) != 1:
            raise KeyError(f"{self.name}: {len(found)} kept score sets match {key}")
        return self.scores[found[0]]

    def first_score(self, **key: str) -> tuple[dict, TestScores]:
        """The first kept score set (in table order) whose row key matches ``key``, with that row key as a dict."""
        for k, scores in self.scores.items():
            fields = dict(zip(ROW_KEY, k))
            if all(fields[f] == v for f, v in key.items()):
                return fields, scores
        raise KeyError(f"{self.name}: no kept score set matches {key}")


def read_rows(path: Path) -> pd.DataFrame:
    """A result table's CSV (:data:`COLUMNS`, empty text fields as "" not NaN), or a UserFileError naming the file
    and what is wrong: truncated (no line end at its end), unreadable, a column missing, a number cell that holds
    no number (``n/a``); never a table read with a row or a number silently missing."""
    path = require_file(path, "results table")
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        raise UserFileError(path, "truncated: its last line has no line end (cut while written or edited); rerun "
                                  "the notebook that writes it")
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise UserFileError(path, f"not a readable CSV ({(str(err).splitlines() or [''])[0]})") from None
    if missing := [c for c in COLUMNS if c not in df.columns]:
        raise UserFileError(path, f"missing columns {missing}: not a results table of this project")
    for col in NUMBER_COLUMNS:
        values = pd.to_numeric(df[col], errors="coerce")
        if (bad := df[col].notna() & values.isna()).any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise UserFileError(path, f"line {i + 2}, column {col}: {df[col].iloc[i]!r} is not a number")
        df[col] = values
    for col in ROW_KEY + ("flags",):
        df[col] = df[col].fillna("").astype(str)
    return df


def row_key(row: dict | pd.Series) -> tuple:
    return tuple(str(row.get(k, "") if isinstance(row, dict) else row[k]) for k in ROW_KEY)


def _fewer_classes(task: str, y: np.ndarray, n_classes: int, present: int, class_names: Sequence[str]) -> str:
    """The flag of a task whose test set holds ``present`` < ``n_classes`` classes."""
    if task != MC or len(class_names) != n_classes:
        return f"{present} of {n_classes} classes scorable in the test set"
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
    held = " / ".join(f"{class_names[c]} {counts[c]}" for c in np.flatnonzero(counts))
    return f"{present}-class task ({held} test records; no other of the {n_classes} classes), not the paper's {n_classes}-class task"


def _classes_present(task: str, y: np.ndarray, n_classes: int) -> int:
    if task == ML:
        y = np.asarray(y)
        return int(np.sum((y.sum(0) > 0) & (y.sum(0) < len(y))))
    return len(np.unique(y))


# A classifier that gives at least this share of the test records one and the same decision is flagged.
NEAR_CONSTANT = 0.95


def _modal_decision_share(task: str, scores: np.ndarray) -> float:
    """The largest share, over seeds, of test records that receive the seed's most common decision (argmax for
    multi-class, the set of positive classes for multi-label)."""
    shares = []
    for s in scores:
        decision = s.argmax(1) if task == MC else (s > 0)
        _, counts = np.unique(decision if decision.ndim == 1 else decision.astype(np.int8), axis=0,
                              return_counts=True)
        shares.append(counts.max() / len(decision))
    return float(max(shares)) if shares else 0.0


def classification_cells(task: str, y: np.ndarray, scores: np.ndarray, n_classes: int, n_boot: int,
                         seed: int, sd_over: str, groups: np.ndarray | None = None,
                         runs_over: str = "pretraining seeds", class_names: Sequence[str] = ()) -> list[dict]:
    """Rows' value fields for every metric of ``task``: mean ± sd over the S seeds of ``scores`` (S, N, C),
    a 95 % bootstrap CI over test records of that mean, and the flags.

    ``class_names`` (C names) let a multi-class task with fewer classes in its test set be named for what it is
    (e.g. "3-class task (CD 17 / NORM 83 / STTC 36 test records; …)").

    With ``groups`` (S,) naming several pretraining runs, the sd is over runs (each run's mean over its probe
    seeds; ``runs_over`` names them) and the CI is nested: every resample also redraws the runs."""
    runs = None if groups is None or len(np.unique(groups)) == 1 else np.asarray(groups)
    fns = metric_functions(TASK[task])
    present = _classes_present(task, y, n_classes)
    absent = _fewer_classes(task, y, n_classes, present, class_names) if present < n_classes else ""
    share = _modal_decision_share(task, scores) if len(y) > 1 else 0.0
    one = ("one decision for every test record" if share == 1.0 else
           f"nearly one decision for every test record ({share:.0%} get the same)" if share >= NEAR_CONSTANT else "")
    weights = R.bootstrap_counts(len(y), n_boot, seed) if n_boot > 0 else None
    out = []
    for name, label in METRICS[task].items():
        values = np.array([fns[name](y, s) for s in scores])
        spread = values if runs is None else np.array([values[runs == g].mean() for g in np.unique(runs)])
        low = high = math.nan
        if weights is not None:
            low, high, _ = R.percentile_interval(R.nested_seed_mean_resampled(
                TASK[task], name, y, scores, runs, weights, seed + RUN_DRAW_OFFSET))
        flags = "; ".join(x for x in (absent, one if not label.startswith("AUC") else "") if x)  # AUC ranks
        out.append({"metric": label, "ours": float(values.mean()),
                    "sd": float(spread.std()) if len(spread) > 1 else math.nan,
                    "sd_over": (runs_over if runs is not None else sd_over) if len(spread) > 1 else "",
                    "n_runs": len(spread),
                    "ci_low": low, "ci_high": high,
                    "ci_over": (CI_OVER_RUNS.format(runs=runs_over) if runs is not None else CI_OVER_SEEDS)
                    if weights is not None else "",
                    "n_test": len(y), "flags": flags})
    return out


def _paper_lookup(table: str | None, row: dict) -> tuple[float, float]:
    key = row.get("paper_key")
    if table is None or key is None:
        return math.nan, math.nan
    try:
        cell = paper_cell(table, **key)
    except KeyError:
        return math.nan, math.nan
    return float(cell["value"]), float(cell["sd"])


def to_frame(paper_table: str | None, rows: list[dict]) -> pd.DataFrame:
    """Rows -> DataFrame of :data:`COLUMNS` with the paper's value and ours − paper beside each.

    A row's ``paper_key`` (dict of ``paper_cell`` fields, or None for "no published counterpart")
    names its paper cell. A flagged row keeps the paper's value for reference but gets no difference.
    """
    out = []
    for row in rows:
        paper, paper_sd = _paper_lookup(paper_table, row)
        flags = row.get("flags", "")
        out.append({**{c: row.get(c, "") for c in ROW_KEY}, "metric": row["metric"], "ours": float(row["ours"]),
                    "sd": row.get("sd", math.nan), "sd_over": row.get("sd_over", ""), "n_runs": row.get("n_runs", 1),
                    "ci_low": row.get("ci_low", math.nan), "ci_high": row.get("ci_high", math.nan),
                    "ci_over": row.get("ci_over", ""), "n_test": row.get("n_test", math.nan), "flags": flags,
                    "paper": paper, "paper_sd": paper_sd,
                    "difference": math.nan if flags else float(row["ours"]) - paper,
                    "details": row.get("details", "")})
    return pd.DataFrame(out, columns=COLUMNS)
