"""Entry point for ``torchrun`` in tests/test_ddp.py: a tiny pretraining run into ``argv[1]``.

The test imports :func:`run` for the single-process reference, so both use the same settings.
"""

from __future__ import annotations

import sys

import torch

from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import PretrainResult, pretrain

# No stochastic depth: its per-sample draws cannot match between 1 and 2 processes.
MODEL = ModelConfig(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2,
                    drop_path_rate=0.0)
CONFIG = PretrainConfig(epochs=2, batch_size=8, lr=1e-3, warmup_epochs=1, save_every=1, seed=5,
                        device="cpu", progress=False)
N_SAMPLES = 16  # a multiple of the world size: no padding by the DistributedSampler


def run(run_dir: str) -> PretrainResult:
    x = torch.randn(N_SAMPLES, MODEL.n_leads, MODEL.n_samples, generator=torch.Generator().manual_seed(1))
    return pretrain(torch.utils.data.TensorDataset(x), MODEL, CONFIG, run_dir)


if __name__ == "__main__":
    run(sys.argv[1])
