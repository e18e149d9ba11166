"""Downstream evaluation protocols (docs/protocols.md: §1–§8, §8 "Supervised", §9 E1–E6).

Modules: ``features`` (frozen representations, reduced leads), ``recipes`` (hyper-parameters and
lr schedules), ``linear_probe``, ``filters`` and ``augment`` (fine-tuning signal processing and
RandAugment), ``finetune``, ``low_shot``, ``regression`` (HR/QRS from features), ``baselines``
(random init, supervised from scratch), ``scoring`` (metrics, epoch selection, result object).
Every result carries a ``protocol`` dict (``protocol_text()`` for captions) and bootstrap CIs.
"""

from ecgjepa_core.evaluation.augment import OPS, augment_batch, rand_augment
from ecgjepa_core.evaluation.baselines import random_encoder, random_init_linear_probe, supervised_from_scratch
from ecgjepa_core.evaluation.features import extract_features
from ecgjepa_core.evaluation.filters import bandpass
from ecgjepa_core.evaluation.finetune import finetune
from ecgjepa_core.evaluation.linear_probe import linear_probe
from ecgjepa_core.evaluation.low_shot import LowShotResult, low_shot_draws, low_shot_probe, low_shot_size
from ecgjepa_core.evaluation.recipes import (FINETUNE_CODE, FINETUNE_PAPER, PROBE_CODE, PROBE_PAPER, FinetuneRecipe, MAECosine,
                      ProbeRecipe, TimmCosine)
from ecgjepa_core.evaluation.regression import RegressionResult, feature_regression
from ecgjepa_core.evaluation.scoring import ClassificationResult

__all__ = [
    "OPS", "augment_batch", "rand_augment", "random_encoder", "random_init_linear_probe", "supervised_from_scratch",
    "extract_features", "bandpass", "finetune", "linear_probe", "LowShotResult", "low_shot_draws", "low_shot_probe",
    "low_shot_size", "FINETUNE_CODE", "FINETUNE_PAPER", "PROBE_CODE", "PROBE_PAPER", "FinetuneRecipe", "MAECosine",
    "ProbeRecipe", "TimmCosine", "RegressionResult", "feature_regression", "ClassificationResult",
]
