"""Weimann & Conrad's ECG-JEPA as a pretraining variant of the study (issue "the second ECG-JEPA").

Their model reads 12 leads at 500 Hz; the study's caches hold 12 leads at 250 Hz (2,500 samples).
Every input of this family, pretraining and evaluation alike, is a cache row upsampled by FFT
resampling (``data.preprocess.fft_resample``) to ``sampling_frequency`` × 10 s, a stated deviation
from their 500 Hz recordings. The size and optimisation come from the profile's
:class:`~ecgjepa_core.study.profiles.WeimannPlan`; everything else is their recipe
(``WeimannConfig`` defaults, ``WEIMANN_PRETRAIN``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ecgjepa_core.data.preprocess import fft_resample
from ecgjepa_core.models.weimann import WeimannEncoder
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.study.profiles import PretrainRecipe, Profile, WeimannPlan
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.weimann_objective import WEIMANN_PRETRAIN

RECORD_SECONDS = 10
ALL_LEADS = tuple(range(12))


def plan_of(profile: Profile) -> WeimannPlan:
    if profile.weimann is None:
        raise SystemExit(f"profile {profile.name!r} has no Weimann pretraining plan; give their encoder file with "
                         "-p encoders weimann=/path/to/checkpoint.pt")
    return profile.weimann


def model_config(profile: Profile) -> WeimannConfig:
    """Their architecture at the plan's size, for 10 s inputs at their 500 Hz."""
    p = plan_of(profile)
    return WeimannConfig.xs(dim=p.dim, depth=p.depth, num_heads=p.num_heads, pred_dim=p.pred_dim,
                            pred_depth=p.pred_depth, pred_num_heads=p.pred_num_heads, num_registers=p.num_registers)


def default_recipe(profile: Profile) -> PretrainRecipe:
    """The plan's peak learning rate, the warm-up of the profile's Kim runs and their EMA start (``WEIMANN_PRETRAIN``)."""
    return PretrainRecipe(plan_of(profile).lr, profile.pretrain.warmup_epochs, WEIMANN_PRETRAIN["ema_start"])


def pretrain_config(profile: Profile, epochs: int, seed: int, device: str, progress: bool,
                    recipe: PretrainRecipe | None = None) -> PretrainConfig:
    """Their optimiser recipe (``WEIMANN_PRETRAIN``: betas, weight decay, EMA end) with ``recipe``'s peak lr, warm-up
    and EMA start (default: :func:`default_recipe`), and the epochs, batch and precision of the profile's Kim mb
    run, so both families see the same samples."""
    kim = profile.pretrain
    recipe = recipe or default_recipe(profile)
    return PretrainConfig(**{**WEIMANN_PRETRAIN, "lr": recipe.lr, "ema_start": recipe.ema_start}, epochs=epochs,
                          batch_size=kim.batch_mb, warmup_epochs=recipe.warmup_epochs, precision=kim.precision,
                          save_every=kim.save_every, seed=seed, device=device, progress=progress)


def model_text(cfg: WeimannConfig) -> str:
    return (f"ViT {cfg.dim} wide, {cfg.depth} blocks, {cfg.num_heads} heads, {cfg.num_registers} register(s); "
            f"predictor {cfg.pred_dim}/{cfg.pred_depth}/{cfg.pred_num_heads}")


def n_samples(cfg: WeimannConfig) -> int:
    """Samples of a 10 s record at the model's rate (5,000 at 500 Hz)."""
    return cfg.sampling_frequency * RECORD_SECONDS


def upsampled(x: np.ndarray, n: int, chunk: int = 256) -> np.ndarray:
    """(N, 12, T) -> (N, 12, n) float32 by FFT resampling along time, ``chunk`` records at a time."""
    x = np.asarray(x)
    if x.shape[-1] == n:
        return x.astype(np.float32, copy=False)
    return np.concatenate([fft_resample(np.asarray(x[i:i + chunk], dtype=np.float32), n).astype(np.float32)
                           for i in range(0, len(x), chunk)]) if len(x) else np.zeros((0, x.shape[1], n), np.float32)


class Upsampled(torch.utils.data.Dataset):
    """A dataset of (12, T) float32 tensors, each FFT-resampled to (12, n) when read."""

    def __init__(self, rows: torch.utils.data.Dataset, n: int):
        self.rows, self.n = rows, n

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def parts(self):
        """The underlying rows' (signals, rows) parts: what identifies the corpus."""
        return self.rows.parts

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.from_numpy(upsampled(self.rows[i].numpy()[None], self.n)[0])


def random_encoder(cfg: WeimannConfig, seed: int) -> WeimannEncoder:
    """Their encoder at ``cfg``, randomly initialised with ``seed`` (the random-init baseline), eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return WeimannEncoder(cfg).eval()


def describe(cfg: WeimannConfig) -> dict:
    """The pretraining-summary fields of a Weimann run (the columns Kim's runs fill with mask, CroPA, leads)."""
    return {"mask": f"per-sample blocks >= {cfg.min_block_size} tokens, keep {cfg.min_keep_ratio}-{cfg.max_keep_ratio}",
            "cropa": "n/a", "leads": cfg.num_channels, "model": model_text(cfg)}


def leads_of(cfg: WeimannConfig) -> Sequence[int]:
    """Rows of the 12-lead caches the model reads: all of them, in the caches' order (theirs)."""
    if cfg.num_channels != 12:
        raise ValueError(f"Weimann encoder with {cfg.num_channels} channels; the study's caches hold 12 leads")
    return ALL_LEADS
