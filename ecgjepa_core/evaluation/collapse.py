"""Does a representation collapse? Two measures of the feature matrix and a validation probe.

* mean per-dimension sd: the sd of each feature across records, averaged over features; ~0 when
  every record maps to (nearly) the same vector (complete collapse).
* effective rank (Roy & Vetterli 2007): exp of the Shannon entropy of the normalised singular
  values σ_k / Σσ, between 1 (one direction) and D (all equal). Computed on the centred matrix, so
  that it counts the directions in which records differ (dimensional collapse, Jing et al. 2022)
  and the shared mean vector does not count as one; the uncentred value (as RankMe, Garrido et
  al. 2023) is given beside it.
* validation linear-probe AUC: what the representation still tells about the labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ecgjepa_core.evaluation.linear_probe import linear_probe
from ecgjepa_core.evaluation.recipes import ProbeRecipe
from ecgjepa_core.evaluation.scoring import Task, headline_metric


def mean_feature_sd(features: np.ndarray) -> float:
    """(N, D) -> mean over the D features of their population sd across the N records."""
    return float(np.asarray(features, dtype=np.float64).std(axis=0).mean())


def effective_rank(features: np.ndarray, centre: bool = True) -> float:
    """(N, D) -> exp(H(σ / Σσ)) of the singular values σ of the (centred) matrix; 0 for an all-zero matrix."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or min(f.shape) == 0:
        raise ValueError(f"features must be a non-empty (N, D) matrix, got shape {f.shape}")
    if centre:
        f = f - f.mean(axis=0)
    s = np.linalg.svd(f, compute_uv=False)
    if s.sum() <= 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


@dataclass(frozen=True)
class RepresentationDiagnostics:
    """Collapse measures of the training features and a linear probe scored on validation."""

    mean_sd: float                      # mean per-dimension sd across training records
    effective_rank: float               # centred training features, 1…dim
    effective_rank_uncentred: float
    dim: int
    n_train: int
    probe_val: float                    # validation headline metric (macro AUC) of a linear probe
    probe_metric: str

    def row(self) -> dict:
        return asdict(self)


def representation_diagnostics(features_train: np.ndarray, y_train: np.ndarray, features_val: np.ndarray,
                               y_val: np.ndarray, task: Task = "multilabel",
                               probe: str | ProbeRecipe = "code-standardised", seed: int = 0
                               ) -> RepresentationDiagnostics:
    """Collapse measures of (N, D) ``features_train`` and the validation score of a linear probe trained on them
    (``probe`` recipe, last epoch; the default z-scores features so that a small-but-informative spread still
    counts).  Targets as for :func:`linear_probe`."""
    features_train = np.asarray(features_train, dtype=np.float32)
    probe_result = linear_probe(features_train, y_train, features_val, y_val, task, recipe=probe, seed=seed,
                                n_boot=0, split="validation", encoder_desc="representation diagnostics")
    key = headline_metric(task)
    return RepresentationDiagnostics(
        mean_sd=mean_feature_sd(features_train), effective_rank=effective_rank(features_train),
        effective_rank_uncentred=effective_rank(features_train, centre=False), dim=features_train.shape[1],
        n_train=len(features_train), probe_val=float(probe_result.metrics[key]), probe_metric=key)
