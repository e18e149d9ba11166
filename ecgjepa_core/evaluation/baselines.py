"""Baselines that need no outside weights (docs/protocols.md §8): the same encoder, randomly initialised.

* :func:`random_init_linear_probe` — frozen random encoder, linear probe (a floor for SSL gains).
* :func:`supervised_from_scratch` — the fine-tuning recipe from random init, trained on the
  downstream task only; the paper says 100 epochs and nothing else, so the fine-tuning recipe
  (lr, schedule, filters, augmentation) is kept and only the epochs change. With ``epochs=10``
  this is the random-init fine-tuning baseline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.evaluation.features import extract_features
from ecgjepa_core.evaluation.finetune import finetune
from ecgjepa_core.evaluation.linear_probe import linear_probe
from ecgjepa_core.evaluation.recipes import FinetuneRecipe, finetune_recipe
from ecgjepa_core.evaluation.scoring import ClassificationResult, Task


def random_encoder(cfg: ModelConfig, seed: int = 0) -> Encoder:
    """The encoder with the paper's initialisation (docs/method_kim.md §6) drawn under torch seed ``seed``; drop path 0, eval mode.

    The global torch RNG state is restored afterwards.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Encoder(cfg.replace(drop_path_rate=0.0)).eval()


def random_init_linear_probe(cfg: ModelConfig, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                             test_y: np.ndarray, task: Task, leads: Sequence[int] | None = None, seed: int = 0,
                             batch_size: int = 32, progress: bool = False, **probe_kwargs) -> ClassificationResult:
    """Features of a random encoder (init seed ``seed``) from (N, L, T) signals, then :func:`linear_probe`."""
    encoder = random_encoder(cfg, seed)
    feats = [extract_features(encoder, x, leads, batch_size=batch_size, progress=progress) for x in (train_x, test_x)]
    return linear_probe(feats[0], train_y, feats[1], test_y, task, seed=seed,
                        encoder_desc=f"random init (seed {seed}), frozen", **probe_kwargs)


def supervised_from_scratch(cfg: ModelConfig, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                            test_y: np.ndarray, task: Task, epochs: int = 100,
                            recipe: str | FinetuneRecipe = "code", seed: int = 0, **finetune_kwargs
                            ) -> ClassificationResult:
    """:func:`finetune` of a random encoder (init seed ``seed``) for ``epochs`` epochs."""
    base = finetune_recipe(recipe)
    recipe = dataclasses.replace(base, epochs=epochs, name=f"{base.name}, supervised from scratch")
    return finetune(random_encoder(cfg, seed), train_x, train_y, test_x, test_y, task, recipe=recipe, seed=seed,
                    encoder_desc=f"random init (seed {seed}), trained on the downstream task only",
                    **finetune_kwargs)
