"""The paper's claims, each tested on this run's test scores by a paired bootstrap of the difference.

A claim says that one row of a result table beats another ("a beats b"): the same test records,
two models. The table notebooks keep each row's test scores (first seed) in
``scores/<table>.npz``; here the metric difference between the two rows is bootstrapped over test
records, drawing the same records for both sides. The pairing matters: both models find the same
records hard, so two rows whose own intervals overlap can still differ on nearly every resample.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.evaluation import metrics as M
from ecgjepa_core.evaluation.scoring import metric_functions
from ecgjepa_core.report.markdown import one_row
from ecgjepa_core.study.tables import METRICS, TASK

SCORES_DIR = "scores"


@dataclass(frozen=True)
class TestScores:
    """One result row's first-seed test predictions: targets, scores (N, C), data rows (N,)."""

    y: np.ndarray
    scores: np.ndarray
    rows: np.ndarray


def save_test_scores(results_dir: Path | str, table: str, kept: dict[tuple, dict]) -> Path:
    """Write ``scores/<table>.npz``: for each (method, dataset, task, setting) key of ``kept`` (a
    Study's ``scores``), the targets, scores and data rows its table row was computed from."""
    path = Path(results_dir) / SCORES_DIR / f"{table}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = [k for k, v in kept.items() if "scores" in v]
    arrays = {"keys": np.array(json.dumps([list(k) for k in keys]))}
    for i, key in enumerate(keys):
        y, s = kept[key]["scores"]
        arrays.update({f"y{i}": y, f"s{i}": s, f"rows{i}": kept[key]["rows"]})
    np.savez_compressed(path, **arrays)
    return path


def load_test_scores(results_dir: Path | str, table: str) -> dict[tuple, TestScores]:
    """The inverse of :func:`save_test_scores`; an empty dict when the table kept no scores."""
    path = Path(results_dir) / SCORES_DIR / f"{table}.npz"
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as z:
        keys = [tuple(k) for k in json.loads(str(z["keys"]))]
        return {k: TestScores(z[f"y{i}"], z[f"s{i}"], z[f"rows{i}"]) for i, k in enumerate(keys)}


@dataclass(frozen=True)
class Claim:
    """"Row ``a`` beats row ``b``" in ``table`` (rows picked by ``a``/``b`` plus ``where``).

    ``a_should_win=False`` for a claim that ``a`` does *not* beat ``b`` (twelve leads vs eight).
    ``at_full_scale``: what the paper's setting changes for this comparison.
    """

    text: str
    table: str
    a: dict
    b: dict
    where: dict
    at_full_scale: str
    a_should_win: bool = True


@dataclass(frozen=True)
class Comparison:
    """The two rows of a claim and the paired bootstrap of ``metric(a) − metric(b)``."""

    a: pd.Series
    b: pd.Series
    difference: M.BootstrapCI
    n_records: int

    @property
    def outcome(self) -> str:
        """"a better" / "b better" when the 95 % interval of the difference excludes 0, else "unresolved"."""
        if self.difference.low > 0:
            return "a better"
        if self.difference.high < 0:
            return "b better"
        return "unresolved"


def metric_key(task: str, label: str) -> str:
    """A table's metric label ("AUC (one-vs-rest)") -> the scoring name ("auc_ovr")."""
    return {v: k for k, v in METRICS[task].items()}[label]


def paired_difference(kept: dict[tuple, TestScores], a: pd.Series, b: pd.Series, n_boot: int,
                      seed: int) -> Comparison:
    """Bootstrap ``metric(a) − metric(b)`` over the test records both rows were scored on.

    Raises ``ValueError`` when a row has no kept scores or the two rows were not scored on the same
    records in the same order (a paired comparison would then be meaningless).
    """
    keys = [(r.method, r.dataset, r.task, r.setting) for r in (a, b)]
    missing = [k for k in keys if k not in kept]
    if missing:
        raise ValueError(f"no kept test scores for {missing}")
    sa, sb = kept[keys[0]], kept[keys[1]]
    if not np.array_equal(sa.rows, sb.rows) or not np.array_equal(sa.y, sb.y):
        raise ValueError(f"{keys[0]} and {keys[1]} were not scored on the same test records")
    if a.metric != b.metric or a.task != b.task:
        raise ValueError(f"rows measure different things: {a.task} {a.metric} vs {b.task} {b.metric}")
    f = metric_functions(TASK[a.task])[metric_key(a.task, a.metric)]
    ci = M.bootstrap_ci(lambda y, s1, s2: f(y, s1) - f(y, s2), sa.y, sa.scores, sb.scores, n_boot=n_boot, seed=seed)
    return Comparison(a, b, ci, len(sa.y))


_LINEAR_PTBXL_ML = {"dataset": "PTB-XL", "task": "multi-label", "metric": "AUC", "setting": "paper split"}
_FINETUNE_PTBXL_MC = {"dataset": "PTB-XL", "task": "multi-class", "metric": "AUC (one-vs-rest)",
                      "setting": "paper split"}
_BIGGER = ("The paper pretrains an 85 M-parameter encoder for 100 epochs on ~174k ECGs; the pretrained side of "
           "this comparison gains from all three, the randomly initialised side from none.")

CLAIMS = (
    Claim("Pretraining beats random initialisation (rb, linear)", "table1_linear", {"method": "ECG-JEPA_rb"},
          {"method": "Random init"}, _LINEAR_PTBXL_ML, _BIGGER),
    Claim("Pretraining beats random initialisation (mb, linear)", "table1_linear", {"method": "ECG-JEPA_mb"},
          {"method": "Random init"}, _LINEAR_PTBXL_ML, _BIGGER),
    Claim("Pretraining beats random initialisation when fine-tuned (rb)", "table2_finetune",
          {"method": "ECG-JEPA_rb"}, {"method": "Random init"}, _FINETUNE_PTBXL_MC,
          _BIGGER + " Fine-tuning lets the random encoder learn too, so this gap is expected to be smaller "
                    "than the linear one at any scale."),
    Claim("Fine-tuned ECG-JEPA beats supervised training from scratch (rb)", "table2_finetune",
          {"method": "ECG-JEPA_rb"}, {"method": "Supervised"}, _FINETUNE_PTBXL_MC,
          "Both sides would train on the full PTB-XL (12× this subset's records) with a 768-wide, 12-block "
          "encoder, and the pretrained side has also seen ~174k unlabelled ECGs."),
    Claim("CroPA helps (rb, linear)", "table6_cropa", {"setting": "cropa=yes, linear, paper split"},
          {"setting": "cropa=no, linear, paper split"}, {"method": "ECG-JEPA_rb", "metric": "AUC (one-vs-one)"},
          "CroPA is an inductive bias; its value may shrink as the corpus grows, or grow with depth (12 blocks "
          "instead of 3)."),
    Claim("CroPA helps (mb, linear)", "table6_cropa", {"setting": "cropa=yes, linear, paper split"},
          {"setting": "cropa=no, linear, paper split"}, {"method": "ECG-JEPA_mb", "metric": "AUC (one-vs-one)"},
          "As for rb."),
    Claim("CroPA helps (rb, fine-tuned)", "table6_cropa", {"setting": "cropa=yes, finetune, paper split"},
          {"setting": "cropa=no, finetune, paper split"}, {"method": "ECG-JEPA_rb", "metric": "AUC (one-vs-one)"},
          "The paper's encoders were pretrained for 100 epochs and the authors' fine-tuning code keeps each "
          "metric's best test epoch, which flatters both rows; this run keeps the last epoch."),
    Claim("Multi-block masking beats random masking (linear)", "table1_linear", {"method": "ECG-JEPA_mb"},
          {"method": "ECG-JEPA_rb"}, _LINEAR_PTBXL_ML,
          "Both sides scale alike; the paper's own margin is small, so a full-scale run needs a large test set "
          "to resolve it."),
    Claim("Twelve leads add nothing over eight (the 12-lead model does not beat the 8-lead one)", "table8_leads",
          {"setting": "12 leads, paper split"}, {"setting": "8 leads, paper split"}, {"metric": "AUC"},
          "The four extra leads are linear combinations of I and II; with more data and depth the 12-lead model "
          "can only learn this redundancy better, so the claim should hold at least as well.",
          a_should_win=False),
    Claim("Adding synthetic ECGs to the real corpus helps (not a claim of the paper)", "table1_linear",
          {"method": "ECG-JEPA_rb"}, {"method": "ECG-JEPA_rb [rb-realonly]"}, _LINEAR_PTBXL_ML,
          "The paper's real corpus is ~174k ECGs, next to which a synthetic set of this size is ~1 %; "
          "this row speaks to corpus-poor settings only."),
)


def verdict(claim: Claim, outcome: str) -> str:
    """The claim's verdict from the paired outcome: holds / contradicted / inconclusive."""
    if claim.a_should_win:
        return {"a better": "holds", "b better": "contradicted", "unresolved": "inconclusive"}[outcome]
    return {"a better": "contradicted", "b better": "holds (b better)",
            "unresolved": "holds (no difference resolved)"}[outcome]


def _side(row: pd.Series) -> str:
    sd = "" if math.isnan(row.sd) else f" ± {row.sd:.3f} over {int(row.n_runs)} seeds"
    return f"{row.ours:.3f}{sd}"


def describe(claim: Claim, c: Comparison) -> str:
    """One Markdown bullet: verdict, both values, the paired difference with its interval, the paper's
    difference and whether this run could resolve it, and what full scale would change."""
    name_a, name_b = (", ".join(map(str, d.values())) for d in (claim.a, claim.b))
    d = c.difference
    half = (d.high - d.low) / 2
    text = (f"- **{claim.text}**: {verdict(claim, c.outcome)}. {name_a} {_side(c.a)} vs {name_b} {_side(c.b)} "
            f"({', '.join(map(str, claim.where.values()))}). Paired difference on the first seed's "
            f"{c.n_records} test records: {d.point:+.3f} [95 % CI {d.low:+.3f}, {d.high:+.3f}] "
            f"({d.n_valid} of {d.n_boot} resamples defined).")
    if not (math.isnan(c.a.paper) or math.isnan(c.b.paper)):
        paper_diff = c.a.paper - c.b.paper
        reach = "below" if abs(paper_diff) < half else "within"
        text += (f" Paper: {c.a.paper:.3f} vs {c.b.paper:.3f} ({paper_diff:+.3f}), {reach} the resolution of this "
                 f"run (interval half-width {half:.3f}).")
    return text + f" At full scale: {claim.at_full_scale}"


def claims_section(results_dir: Path | str, n_boot: int, seed: int = 0) -> str:
    """A Markdown list: each of the paper's claims, whether it holds in this run, with the numbers."""
    results_dir = Path(results_dir)
    lines = [f"Each claim compares two rows of one table on the same test records. Verdicts come from a paired "
             f"bootstrap ({n_boot} resamples, seed {seed}) of the difference on the first seed's test scores: "
             "*holds* when its 95 % interval lies above 0 in the claimed direction, *contradicted* when it lies "
             "on the other side, *inconclusive* otherwise. Values are means ± sd over probe seeds where there are "
             f"several. The {len(CLAIMS)} comparisons are not corrected for multiplicity.", ""]
    tables, kept = {}, {}  # each table's CSV and test scores, read once for all its claims
    for name in {c.table for c in CLAIMS}:
        path = results_dir / f"{name}.csv"
        if path.exists():
            tables[name] = pd.read_csv(path, keep_default_na=False, na_values=[""])
            tables[name]["setting"] = tables[name]["setting"].fillna("")
            kept[name] = load_test_scores(results_dir, name)
    for claim in CLAIMS:
        if claim.table not in tables:
            lines.append(f"- **{claim.text}**: not measured ({claim.table} was not produced in this run).")
            continue
        table = tables[claim.table]
        a, b = one_row(table, {**claim.where, **claim.a}), one_row(table, {**claim.where, **claim.b})
        if a is None or b is None:
            lines.append(f"- **{claim.text}**: not measured (its rows are not both in {claim.table}).")
            continue
        try:
            comparison = paired_difference(kept[claim.table], a, b, n_boot, seed)
        except ValueError as err:
            lines.append(f"- **{claim.text}**: not measured ({err}).")
            continue
        lines.append(describe(claim, comparison))
    return "\n".join(lines)
