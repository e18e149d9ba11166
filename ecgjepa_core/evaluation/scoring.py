"""Test metrics of a classification run, epoch selection, bootstrap CIs and the result object.

Tasks: ``multilabel`` — targets (N, C) multi-hot, scores are logits (N, C); ``multiclass`` —
targets (N,) class indices, scores are softmax probabilities (N, C). Multi-class AUC is reported
both ways (docs/protocols.md §3, §9 E2): ``auc_ovo`` (the authors' linear-probe code) and ``auc_ovr``
(paper text and fine-tuning code).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from ecgjepa_core.evaluation import metrics as M

Task = Literal["multilabel", "multiclass"]
Selection = Literal["last", "val", "test_best"]

SELECTION_TEXT = {
    "last": "last epoch",
    "val": "best epoch on the validation split",
    "test_best": "test-set selection as in the paper (best test value of each metric, per metric; optimistic)",
}


def check_task(task: str, y: np.ndarray) -> None:
    if task == "multilabel" and y.ndim != 2:
        raise ValueError(f"multilabel targets must be (N, C) multi-hot, got shape {y.shape}")
    if task == "multiclass" and y.ndim != 1:
        raise ValueError(f"multiclass targets must be (N,) class indices, got shape {y.shape}")
    if task not in ("multilabel", "multiclass"):
        raise ValueError(f"task must be 'multilabel' or 'multiclass', got {task!r}")


def n_outputs(task: Task, *ys: np.ndarray) -> int:
    """Number of head outputs: C columns (multi-label) or 1 + the largest class index seen."""
    return ys[0].shape[1] if task == "multilabel" else int(max(y.max() for y in ys)) + 1


ClassWeights = Literal["none", "balanced"]
BALANCED_TEXT = "classes weighted by inverse training frequency"  # what ``class_weights="balanced"`` does


def balanced_class_weights(task: Task, y: np.ndarray, n_out: int) -> torch.Tensor:
    """Loss weights from training targets ``y`` that give every class the same total weight.

    Multi-class (y (N,)): weight N / (K · n_c) for each of the K classes present (0 for absent ones), so a
    model that predicts the majority class for every record no longer minimises the loss. Multi-label
    (y (N, C)): BCE ``pos_weight`` n_neg / n_pos per class (1 where a class has no positive or no negative).
    """
    if task == "multilabel":
        y = np.asarray(y, dtype=np.float64)
        pos = y.sum(0)
        neg = len(y) - pos
        return torch.as_tensor(np.where((pos > 0) & (neg > 0), neg / np.maximum(pos, 1), 1.0), dtype=torch.float32)
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_out).astype(np.float64)
    present = counts > 0
    weights = np.zeros(n_out)
    weights[present] = len(y) / (present.sum() * counts[present])
    return torch.as_tensor(weights, dtype=torch.float32)


def loss_fn(task: Task, weights: torch.Tensor | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """BCE-with-logits on float multi-hot targets, or cross-entropy on int64 class indices; ``weights`` from
    :func:`balanced_class_weights`, on the logits' device (``pos_weight`` of the BCE, class weights of the
    cross-entropy)."""
    if task == "multilabel":
        return lambda logits, y: torch.nn.functional.binary_cross_entropy_with_logits(logits, y.float(),
                                                                                      pos_weight=weights)
    return lambda logits, y: torch.nn.functional.cross_entropy(logits, y.long(), weight=weights)


def scores_from_logits(task: Task, logits: np.ndarray) -> np.ndarray:
    """Logits (N, C) -> the scores the metrics take: logits (multi-label) or softmax (multi-class)."""
    if task == "multilabel":
        return logits
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def metric_functions(task: Task) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    """name -> f(y_true, scores) for every reported metric of ``task``."""
    if task == "multilabel":
        return {"auc": lambda y, s: M.multilabel_macro_auc(y, s).value,
                "f1": M.multilabel_macro_f1,
                "accuracy": M.multilabel_accuracy}
    return {"auc_ovr": lambda y, s: M.multiclass_macro_auc(y, s, "ovr").value,
            "auc_ovo": lambda y, s: M.multiclass_macro_auc(y, s, "ovo").value,
            "f1": M.multiclass_macro_f1,
            "accuracy": M.multiclass_accuracy}


def headline_metric(task: Task) -> str:
    """The metric that selects epochs (``val``, and the scores kept under ``test_best``)."""
    return "auc" if task == "multilabel" else "auc_ovr"


def skipped_classes(task: Task, y: np.ndarray, scores: np.ndarray) -> tuple:
    """Classes (or class pairs for OvO) left out of the macro AUC because the test set cannot score them."""
    if task == "multilabel":
        return M.multilabel_macro_auc(y, scores).skipped
    return M.multiclass_macro_auc(y, scores, "ovo").skipped


def evaluate_scores(task: Task, y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {name: float(f(y, scores)) for name, f in metric_functions(task).items()}


def bootstrap_cis(task: Task, y: np.ndarray, scores: np.ndarray, n_boot: int, seed: int,
                  names: tuple[str, ...] | None = None) -> dict[str, M.BootstrapCI]:
    """Percentile 95 % CIs over test records of the metrics ``names`` (default: all)."""
    if n_boot <= 0:
        return {}
    fns = metric_functions(task)
    return {name: M.bootstrap_ci(fns[name], y, scores, n_boot=n_boot, seed=seed)
            for name in (names or tuple(fns))}


@dataclass
class EpochEval:
    """One epoch: mean training loss and the test (and optional validation) evaluation."""

    epoch: int                 # 1-based; 0 = before any update
    train_loss: float
    test: dict[str, float]
    test_scores: np.ndarray    # (N_test, C)
    val: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, float]:
        return {"epoch": self.epoch, "train_loss": self.train_loss, **{f"test_{k}": v for k, v in self.test.items()},
                **{f"val_{k}": v for k, v in self.val.items()}}


@dataclass
class ClassificationResult:
    """A downstream classification run.

    ``metrics``: the reported test metrics under ``protocol['selection']``; ``selected_epoch``
    is an int, or for ``test_best`` a dict metric -> epoch. ``test_scores`` (logits for
    multi-label, probabilities for multi-class) and ``ci`` belong to ``scores_epoch``.
    ``curve``: one row per epoch (``train_loss``, ``test_*``, ``val_*``). ``model``: the trained
    network when the protocol trains one worth keeping (fine-tuning: the last epoch's weights).
    """

    task: Task
    metrics: dict[str, float]
    selected_epoch: int | dict[str, int]
    scores_epoch: int
    y_test: np.ndarray
    test_scores: np.ndarray
    curve: list[dict[str, float]]
    ci: dict[str, M.BootstrapCI]
    skipped: tuple
    protocol: dict
    model: torch.nn.Module | None = None

    def protocol_text(self) -> str:
        return protocol_text(self.protocol)


def protocol_text(protocol: dict) -> str:
    """One line ``key=value; …`` for table captions."""
    return "; ".join(f"{k}={v}" for k, v in protocol.items())


def select(history: list[EpochEval], task: Task, rule: Selection) -> tuple[dict[str, float], int | dict, int]:
    """(reported metrics, selected epoch(s), epoch whose test scores are kept) under ``rule``.

    ``history`` holds the trained epochs (1…E) only. ``val`` picks the first epoch with the best
    validation headline metric; ``test_best`` takes each metric's best test value independently
    (the authors' fine-tuning code) and keeps the scores of the best-headline epoch.
    """
    key = headline_metric(task)
    if rule == "last":
        last = history[-1]
        return dict(last.test), last.epoch, last.epoch
    if rule == "val":
        if not history[0].val:
            raise ValueError("select='val' needs a validation split (x_val, y_val)")
        best = max(history, key=lambda h: (h.val[key], -h.epoch))
        return dict(best.test), best.epoch, best.epoch
    if rule == "test_best":
        chosen = {m: max(history, key=lambda h: (h.test[m], -h.epoch)) for m in history[0].test}
        return ({m: h.test[m] for m, h in chosen.items()}, {m: h.epoch for m, h in chosen.items()},
                chosen[key].epoch)
    raise ValueError(f"select must be 'last', 'val' or 'test_best', got {rule!r}")


def build_result(task: Task, history: list[EpochEval], y_test: np.ndarray, rule: Selection,
                 protocol: dict, n_boot: int, seed: int, extra_rows: Sequence[EpochEval] = ()) -> ClassificationResult:
    """Apply the selection rule, bootstrap the kept scores and package the run.

    ``extra_rows`` (e.g. the epoch-0 evaluation) enter the curve but never the selection.
    """
    reported, epochs, kept = select(history, task, rule)
    scores = next(h.test_scores for h in history if h.epoch == kept)
    protocol = {**protocol, "selection": SELECTION_TEXT[rule],
                "bootstrap": f"{n_boot} resamples of test records, seed {seed}, on the scores of epoch {kept}"}
    return ClassificationResult(
        task=task, metrics=reported, selected_epoch=epochs, scores_epoch=kept, y_test=y_test,
        test_scores=scores, curve=[h.row() for h in [*extra_rows, *history]],
        ci=bootstrap_cis(task, y_test, scores, n_boot, seed), skipped=skipped_classes(task, y_test, scores),
        protocol=protocol)
