"""P/QRS/T segmentation from encoder tokens: token-to-sample heads, the frozen and fine-tuned protocols,
and the references (1-D U-Net from scratch, neurokit2's classical delineator), all scored alike.

* An :class:`EncoderAdapter` turns any encoder into x (B, L, T) → tokens (B, N, D) plus a
  :class:`TokenLayout` saying which leads and samples each token covers, the input recipe and the
  lead names. Kim's tokens are per lead (1 lead × 50 samples at 250 Hz, lead-major); Weimann's
  cover all 12 leads × 25 samples at 500 Hz.
* A :class:`TokenHead` is one Linear layer D → samples_per_token × leads_per_token × 4 logits,
  rearranged to (B, L, T, 4), after a fixed affine map of the tokens (whitening for the frozen
  head, per-feature standardisation for fine-tuning).
* Protocols: ``frozen`` (encoder fixed, tokens computed once, the linear head trained), ``fine-tuned``
  (a copy of the encoder, drop path 0, trained with the head), ``from scratch`` (the U-Net) and
  ``no training`` (neurokit2). Training: AdamW, cross-entropy over the samples with known truth,
  batch order from a seeded generator, validation ``miou_waves`` after every epoch, early stopping
  with patience; the best epoch is kept and the curve returned. Every run uses one intra-op thread,
  so a run gives the same numbers in-process and in a worker; :func:`segmentation_table` spreads the
  runs over worker processes. Predictions are the argmax per sample with wave runs shorter than
  ``MIN_WAVE_MS`` set to none.
* Split (:func:`~ecgjepa_core.data.ludb_segmentation.ludb_split`): records 1–80 train, 81–100
  validation (epoch selection), 101–200 test.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ecgjepa_core.data.ludb_segmentation import (CLASSES, IGNORE, SegmentationSet, issue_counts,
                                                 load_segmentation_set, ludb_split)
from ecgjepa_core.data.preprocess import Recipe
from ecgjepa_core.data.records import JEPA_8_LEADS, STANDARD_12_LEADS
from ecgjepa_core.evaluation.delineation import (MIN_WAVE_MS, WAVES, drop_short_runs, metric_rows, neurokit_labels,
                                                 paired_difference, stats_table, summarise)
from ecgjepa_core.evaluation.linear_probe import one_intra_op_thread
from ecgjepa_core.evaluation.unet1d import UNet1d
from ecgjepa_core.models.ecgjepa import DropPath

PROTOCOLS = ("frozen", "fine-tuned")
UNET, NEUROKIT = "1-D U-Net", "neurokit2 dwt"
# Relative floor of the token covariance's eigenvalues in the frozen head's whitening: 1e-4 cuts off
# directions the head uses (validation mIoU of the cpu-study rb frozen head 0.17, against 0.21 at 1e-6 and 1e-8).
WHITENING_FLOOR = 1e-6


@dataclass(frozen=True)
class TokenLayout:
    """How N tokens tile an input of ``n_leads`` × ``n_samples``.

    Leads form groups of ``leads_per_token`` (in input order) and time is cut into steps of
    ``samples_per_token``; tokens are group-major: token ``g · time_tokens + p`` covers leads
    ``g·l … g·l + l − 1`` and samples ``p·s … p·s + s − 1``.
    """

    n_leads: int
    n_samples: int
    samples_per_token: int
    leads_per_token: int

    def __post_init__(self):
        if self.n_leads % self.leads_per_token or self.n_samples % self.samples_per_token:
            raise ValueError(f"{self} does not tile its input exactly")

    @property
    def lead_groups(self) -> int:
        return self.n_leads // self.leads_per_token

    @property
    def time_tokens(self) -> int:
        return self.n_samples // self.samples_per_token

    @property
    def n_tokens(self) -> int:
        return self.lead_groups * self.time_tokens


class EncoderAdapter(nn.Module):
    """An encoder as segmentation sees it: ``forward(x (B, L, T)) -> tokens (B, N, D)``.

    ``tokens_of(encoder, x)`` computes the tokens; ``recipe`` prepares a LUDB record (the encoder's
    input recipe) and ``lead_names`` are the recipe rows the encoder takes, in order.
    """

    def __init__(self, encoder: nn.Module, tokens_of: Callable[[nn.Module, torch.Tensor], torch.Tensor],
                 layout: TokenLayout, embed_dim: int, recipe: Recipe, lead_names: tuple[str, ...],
                 description: str = ""):
        super().__init__()
        if len(lead_names) != layout.n_leads or recipe.n_samples != layout.n_samples:
            raise ValueError(f"layout {layout} does not match {len(lead_names)} leads × {recipe.n_samples} samples")
        self.encoder, self.tokens_of, self.layout = encoder, tokens_of, layout
        self.embed_dim, self.recipe, self.description = embed_dim, recipe, description
        self.lead_names = tuple(lead_names)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tokens_of(self.encoder, x)


def _patch_tokens(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Both encoders return their patch tokens (no registers) from ``encoder(x)``."""
    return encoder(x)


def kim_adapter(encoder: nn.Module, recipe: Recipe, description: str = "") -> EncoderAdapter:
    """Kim's :class:`~ecgjepa_core.models.ecgjepa.Encoder`: per-lead tokens of ``patch_size`` samples,
    lead-major; 8 leads (I, II, V1–V6) or 12, as its config says; ``recipe`` at 250 Hz (2,500 samples)."""
    cfg = encoder.cfg
    leads = JEPA_8_LEADS if cfg.n_leads == 8 else STANDARD_12_LEADS
    layout = TokenLayout(cfg.n_leads, cfg.n_patches * cfg.patch_size, cfg.patch_size, 1)
    return EncoderAdapter(encoder, _patch_tokens, layout, cfg.embed_dim, recipe, leads, description)


def weimann_adapter(encoder: nn.Module, recipe: Recipe, description: str = "") -> EncoderAdapter:
    """Weimann & Conrad's encoder: one token per ``patch_size`` samples holding all 12 leads;
    ``recipe`` with 12 leads at the encoder's rate (500 Hz: 5,000 samples for 10 s)."""
    cfg = encoder.cfg
    layout = TokenLayout(cfg.num_channels, recipe.n_samples, cfg.patch_size, cfg.num_channels)
    return EncoderAdapter(encoder, _patch_tokens, layout, cfg.dim, recipe, STANDARD_12_LEADS, description)


class TokenHead(nn.Module):
    """A fixed affine map of the token features, then Linear D → samples_per_token · leads_per_token · C;
    tokens (B, N, D) → logits (B, L, T, C).

    The affine map ``(tokens − feature_mean) @ whitening`` (identity until :meth:`standardise_with`
    sets it from training tokens) keeps the head linear; it matters for optimisation. A small
    encoder's tokens vary mostly with their position, and what varies with the signal lies in
    directions of small variance that gradient steps on per-feature standardised tokens reach only
    slowly: on LUDB, the frozen head on the cpu-study rb encoder's standardised tokens was still at
    training loss 1.02 after 100 epochs (lr 3e-2), on its whitened tokens it reached 0.94 within 10
    (lr 1e-2). Whitening suits fixed tokens only: under fine-tuning it magnifies every change of the
    encoder in those directions (random init, encoder lr 3e-3: training loss 27 in the first epoch,
    against 1.3 with per-feature standardisation).
    """

    def __init__(self, embed_dim: int, layout: TokenLayout, n_classes: int = len(CLASSES)):
        super().__init__()
        self.layout, self.n_classes = layout, n_classes
        self.register_buffer("feature_mean", torch.zeros(embed_dim))
        self.register_buffer("whitening", torch.eye(embed_dim))
        self.proj = nn.Linear(embed_dim, layout.samples_per_token * layout.leads_per_token * n_classes)

    def standardise_with(self, tokens: np.ndarray, whiten: bool = False) -> "TokenHead":
        """Set the map from training tokens (N, N_tok, D): their mean, and the inverse sd per feature or,
        with ``whiten``, the ZCA matrix Σ^(-1/2) (covariance eigenvalues below ``WHITENING_FLOOR`` × the
        largest raised to it: LayerNorm'd tokens have a null direction)."""
        flat = torch.as_tensor(tokens).reshape(-1, tokens.shape[-1]).double()
        if whiten:
            values, vectors = torch.linalg.eigh(torch.cov(flat.T))
            values = values.clamp_min(values.max() * WHITENING_FLOOR)
            matrix = (vectors * values.rsqrt()) @ vectors.T
        else:
            matrix = torch.diag(1 / flat.std(0).clamp_min(1e-6))
        self.feature_mean.copy_(flat.mean(0).float())
        self.whitening.copy_(matrix.float())
        return self

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        lay, B = self.layout, tokens.shape[0]
        if tokens.shape[1] != lay.n_tokens:
            raise ValueError(f"expected {lay.n_tokens} tokens for {lay}, got {tuple(tokens.shape)}")
        h = self.proj((tokens - self.feature_mean) @ self.whitening)
        h = h.view(B, lay.lead_groups, lay.time_tokens, lay.samples_per_token, lay.leads_per_token, self.n_classes)
        h = h.permute(0, 1, 4, 2, 3, 5)  # (B, groups, leads in token, time tokens, samples, C)
        return h.reshape(B, lay.n_leads, lay.n_samples, self.n_classes)


class TokenSegmenter(nn.Module):
    """Adapter then head: x (B, L, T) → logits (B, L, T, C)."""

    def __init__(self, adapter: EncoderAdapter, head: TokenHead):
        super().__init__()
        self.adapter, self.head = adapter, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.adapter(x))


@dataclass(frozen=True)
class SegmentationConfig:
    """Training of every segmenter: at most ``epochs_*`` epochs, stopped after ``patience`` epochs
    without a better validation mIoU (P, QRS, T), the best epoch kept. ``lr_head`` is the head's rate
    in both token protocols; ``lr_finetune`` the encoder's when fine-tuned.

    The rates were chosen on the validation records (LUDB 81–100, 80 training records: 10 steps an
    epoch at batch 8) with the cpu-study profile's encoders (96 wide, 3 blocks) and the random init:

    * U-Net (width 8), 60–80 epochs: lr 1e-3 best validation mIoU 0.726 (epoch 72), 3e-3 0.782
      (epoch 45), 1e-2 0.812 (epoch 80, 0.80 from epoch 33 on), 3e-2 0.799 (epoch 63).
    * Fine-tuning (head 1e-2), 30 epochs, encoder lr 1e-4 / 1e-3 / 3e-3 / 1e-2: random init 0.297 (23
      epochs) / 0.685 / 0.713 / 0.666, rb – / 0.690 / 0.724 / 0.646.
    * Frozen whitened head, lr 3e-3 / 1e-2 / 3e-2: mb 0.232 / 0.233 / 0.242 (the rate barely matters
      once the tokens are whitened; 1e-2 kept).

    CPU time on one thread (2 shared cores): a U-Net epoch ~1.5 s, a fine-tuning epoch ~2 s, a
    frozen-head epoch ~0.4 s with its validation; neurokit2 on the 100 test records ~40 s, reading
    the 200 records ~20 s. Table 10 at the cpu-study profile (three encoders): 420–465 s of CPU time
    in all, of which ~30 s in the parent and the rest in the workers.
    """

    epochs_frozen: int = 60
    epochs_finetune: int = 50
    epochs_unet: int = 60
    patience: int = 10
    lr_head: float = 1e-2
    lr_finetune: float = 3e-3
    lr_unet: float = 1e-2
    weight_decay: float = 1e-4
    batch: int = 8
    unet_width: int = 8
    seed: int = 0
    bootstrap: int = 1000


@dataclass
class SegmentationRun:
    """One trained (or classical) segmenter scored on the test records.

    ``pred`` (N_test, L, T) int8 labels; ``stats`` per-record counts (index record_id);
    ``curve`` one row per epoch run (:data:`CURVE_COLUMNS`); ``protocol_info`` what was done.
    """

    method: str
    protocol: str
    input: str
    record_ids: list[str]
    pred: np.ndarray
    stats: pd.DataFrame
    curve: pd.DataFrame
    protocol_info: dict
    seconds: float = float("nan")  # wall-clock and CPU time of the run
    cpu_seconds: float = float("nan")


def _seeded(seed: int, build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` under torch seed ``seed``, leaving the global RNG as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


@torch.no_grad()
def _outputs(model: nn.Module, inputs: np.ndarray, batch: int) -> np.ndarray:
    """Model outputs of ``inputs`` (N, ...) in eval mode, batched, as a float32 array."""
    model.eval()
    return torch.cat([model(torch.as_tensor(inputs[i:i + batch])) for i in range(0, len(inputs), batch)]).numpy()


def predict_labels(model: nn.Module, inputs: np.ndarray, fs: float, batch: int = 16) -> np.ndarray:
    """Inputs (N, ...) → labels (N, L, T) int8: argmax per sample, short wave runs removed."""
    model.eval()
    with torch.no_grad():
        labels = [model(torch.as_tensor(inputs[i:i + batch])).argmax(dim=-1).to(torch.int8).numpy()
                  for i in range(0, len(inputs), batch)]
    return drop_short_runs(np.concatenate(labels), fs)


CURVE_COLUMNS = ["epoch", "train_loss", "val_miou_waves"] + [f"val_iou_{w}" for w in WAVES]


def fit(model: nn.Module, param_groups: list[dict], train_in: np.ndarray, train_y: np.ndarray,
        val_in: np.ndarray, val_y: np.ndarray, val_ids: list[str], fs: float, max_epochs: int, patience: int,
        batch: int, weight_decay: float, seed: int) -> tuple[nn.Module, pd.DataFrame]:
    """Train ``model`` (inputs → logits (B, L, T, C)) with cross-entropy on samples of known truth, scoring
    the validation records after every epoch; stop after ``patience`` epochs without a better validation
    ``miou_waves`` (or at ``max_epochs``). Return the model with the weights of its best epoch and the
    curve (:data:`CURVE_COLUMNS`, one row per epoch run)."""
    opt = torch.optim.AdamW(param_groups, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    y = torch.as_tensor(train_y.astype(np.int64))
    best, best_score, best_epoch, rows = copy.deepcopy(model.state_dict()), -np.inf, 0, []
    for epoch in range(1, max_epochs + 1):
        model.train()
        order = torch.randperm(len(train_in), generator=gen)
        total = 0.0
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            logits = model(torch.as_tensor(train_in[idx.numpy()]))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[idx].reshape(-1), ignore_index=IGNORE)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        val = summarise(stats_table(val_y, predict_labels(model, val_in, fs, batch), val_ids, fs))
        rows.append({"epoch": epoch, "train_loss": total / len(train_in), "val_miou_waves": val["miou_waves"],
                     **{f"val_iou_{w}": val[f"iou_{w}"] for w in WAVES}})
        if val["miou_waves"] > best_score:
            best, best_score, best_epoch = copy.deepcopy(model.state_dict()), val["miou_waves"], epoch
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best)
    return model.eval(), pd.DataFrame(rows, columns=CURVE_COLUMNS)


@torch.no_grad()
def frozen_tokens(adapter: EncoderAdapter, x: np.ndarray, batch: int = 16) -> np.ndarray:
    """Tokens (N, N_tok, D) float32 of signals (N, L, T) with the encoder in eval mode."""
    was_training = adapter.training
    try:
        return _outputs(adapter, x, batch)
    finally:
        adapter.train(was_training)


def _without_drop_path(module: nn.Module) -> nn.Module:
    module = copy.deepcopy(module)
    for m in module.modules():
        if isinstance(m, DropPath):
            m.p = 0.0
    return module


def _epochs_text(curve: pd.DataFrame, max_epochs: int, patience: int) -> str:
    best = int(curve.loc[curve["val_miou_waves"].idxmax(), "epoch"])
    return f"{len(curve)} run, best {best} kept (at most {max_epochs}, patience {patience})"


def fit_and_score(method: str, protocol: str, data: SegmentationSet, split: dict[str, list[str]],
                  config: SegmentationConfig, adapter: EncoderAdapter | None = None) -> SegmentationRun:
    """Train a segmenter on ``split["train"]``, pick its epoch on ``split["val"]``, score it on ``split["test"]``.

    ``protocol``: ``frozen`` or ``fine-tuned`` (``adapter`` required; the caller's encoder is not
    changed), ``from scratch`` (the 1-D U-Net) or ``no training`` (neurokit2). ``data`` must hold the
    input the adapter expects (its recipe and leads). Runs on one intra-op thread.
    """
    with one_intra_op_thread():
        start, cpu_start = time.perf_counter(), time.process_time()
        run = _fit_and_score(method, protocol, data, split, config, adapter)
        run.seconds, run.cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return run


def _fit_and_score(method: str, protocol: str, data: SegmentationSet, split: dict[str, list[str]],
                   config: SegmentationConfig, adapter: EncoderAdapter | None) -> SegmentationRun:
    tr, va, te = (data.rows(split[k]) for k in ("train", "val", "test"))
    fs, seed, patience = data.fs, config.seed, config.patience
    info = {"split": {k: f"{len(v)} records ({v[0]}-{v[-1]})" if v else "none" for k, v in split.items()},
            "selection": "best validation miou_waves", "post-processing": f"wave runs < {MIN_WAVE_MS:g} ms -> none",
            "batch": config.batch, "seed": seed, "optimiser": f"AdamW, weight decay {config.weight_decay:g}"}
    curve = pd.DataFrame(columns=CURVE_COLUMNS)

    def trained(model: nn.Module, groups: list[dict], inputs: np.ndarray, max_epochs: int) -> nn.Module:
        nonlocal curve
        model, curve = fit(model, groups, inputs[tr], data.y[tr], inputs[va], data.y[va], split["val"], fs,
                           max_epochs, patience, config.batch, config.weight_decay, seed)
        info["epochs"] = _epochs_text(curve, max_epochs, patience)
        return model

    if protocol in PROTOCOLS:
        if adapter is None:
            raise ValueError(f"protocol {protocol!r} needs an encoder adapter")
        if tuple(adapter.lead_names) != data.leads or adapter.layout.n_samples != data.x.shape[-1]:
            raise ValueError(f"{method}: the data hold {data.leads} × {data.x.shape[-1]} samples, the encoder "
                             f"takes {adapter.lead_names} × {adapter.layout.n_samples}")
        head = _seeded(seed, lambda: TokenHead(adapter.embed_dim, adapter.layout))
        if protocol == "frozen":
            tokens = frozen_tokens(adapter, data.x)
            head.standardise_with(tokens[tr], whiten=True)
            model = trained(head, [{"params": head.parameters(), "lr": config.lr_head}], tokens, config.epochs_frozen)
            test_in, features = tokens[te], "whitened (training tokens)"
            info["lr"] = f"head {config.lr_head:g}"
        else:
            head.standardise_with(frozen_tokens(adapter, data.x[tr]))  # from the encoder before fine-tuning
            model = TokenSegmenter(_without_drop_path(adapter), head)
            groups = [{"params": model.adapter.parameters(), "lr": config.lr_finetune},
                      {"params": model.head.parameters(), "lr": config.lr_head}]
            model = trained(model, groups, data.x, config.epochs_finetune)
            test_in, features = data.x[te], "standardised per feature (training tokens before fine-tuning)"
            info.update(lr=f"encoder {config.lr_finetune:g}, head {config.lr_head:g}", drop_path=0.0)
        info["encoder"] = adapter.description or method
        info["head"] = (f"features {features}, Linear {adapter.embed_dim} -> "
                        f"{adapter.layout.samples_per_token} samples x "
                        f"{adapter.layout.leads_per_token} leads x {len(CLASSES)} classes per token")
        pred = predict_labels(model, test_in, fs, config.batch)
    elif protocol == "from scratch":
        unet = _seeded(seed, lambda: UNet1d(len(data.leads), width=config.unet_width))
        model = trained(unet, [{"params": unet.parameters(), "lr": config.lr_unet}], data.x, config.epochs_unet)
        pred = predict_labels(model, data.x[te], fs, config.batch)
        info.update(lr=f"{config.lr_unet:g}", width=config.unet_width,
                    parameters=sum(p.numel() for p in unet.parameters()))
    elif protocol == "no training":
        pred, failures = neurokit_labels(data.x[te], fs)
        info = {"split": info["split"], "delineator": "neurokit2 ecg_clean + ecg_peaks + ecg_delineate(method='dwt')",
                "QRS boundaries": "its ECG_R_Onsets / ECG_R_Offsets", "leads_failed": len(failures)}
    else:
        raise ValueError(f"unknown protocol {protocol!r}; choose frozen, fine-tuned, from scratch or no training")
    stats = stats_table(data.y[te], pred, split["test"], fs)
    input_name = f"{len(data.leads)} leads @ {fs:g} Hz"
    return SegmentationRun(method, protocol, input_name, list(split["test"]), pred, stats, curve, info)


# The data every worker process of :func:`run_all` trains on, set once per worker when it starts.
_WORKER_DATA: dict = {}


def _start_worker(data: SegmentationSet, split: dict[str, list[str]], config: SegmentationConfig) -> None:
    torch.set_num_threads(1)  # first, as in DataLoader workers: a forked child must not use the parent's threads
    _WORKER_DATA.update(data=data, split=split, config=config)


def _worker_fit_and_score(method: str, protocol: str, adapter: EncoderAdapter | None) -> SegmentationRun:
    d = _WORKER_DATA
    return fit_and_score(method, protocol, d["data"], d["split"], d["config"], adapter)


# Longest runs first, so that the last ones to start are short: the U-Net, fine-tuning, neurokit2, frozen heads.
_START_ORDER = {"from scratch": 0, "fine-tuned": 1, "no training": 2, "frozen": 3}


def run_all(jobs: list[tuple[str, str, EncoderAdapter | None]], data: SegmentationSet, split: dict[str, list[str]],
            config: SegmentationConfig, workers: int = 1) -> list[SegmentationRun]:
    """:func:`fit_and_score` of every (method, protocol, adapter) job, returned in ``jobs`` order; with
    ``workers`` > 1 the runs are spread over that many worker processes (forked where the platform can;
    each run on one thread, so the numbers are those of an in-process run)."""
    if workers <= 1 or len(jobs) <= 1:
        return [fit_and_score(method, protocol, data, split, config, adapter) for method, protocol, adapter in jobs]
    order = sorted(range(len(jobs)), key=lambda k: _START_ORDER.get(jobs[k][1], len(_START_ORDER)))
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context, initializer=_start_worker,
                             initargs=(data, split, config)) as pool:
        futures = {k: pool.submit(_worker_fit_and_score, *jobs[k]) for k in order}
        return [futures[k].result() for k in range(len(jobs))]


@dataclass
class SegmentationResults:
    """What :func:`segmentation_table` returns.

    ``table``: tidy rows (method, protocol, input, metric, value, ci_low, ci_high, n_records);
    ``record_scores``: per-record counts (method, protocol, input, record_id, count columns) for
    paired bootstraps; ``claims``: paired-bootstrap verdicts; ``figure``: one test record's ECG,
    truth and every method's prediction; ``issues``: bad annotations by reason; ``runs``: every run.
    """

    table: pd.DataFrame
    record_scores: pd.DataFrame
    claims: pd.DataFrame
    figure: dict
    issues: pd.DataFrame
    split: dict[str, list[str]]
    runs: list[SegmentationRun] = field(default_factory=list)

    def curves(self) -> pd.DataFrame:
        """Learning curves of every trained run: method, protocol, input, then :data:`CURVE_COLUMNS`."""
        parts = [r.curve.assign(method=r.method, protocol=r.protocol, input=r.input) for r in self.runs if len(r.curve)]
        columns = ["method", "protocol", "input"] + CURVE_COLUMNS
        return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _verdict(low: float, high: float) -> str:
    return "supported" if low > 0 else "contradicted" if high < 0 else "not resolved"


def compare_runs(a: SegmentationRun, b: SegmentationRun, claim: str, metric: str = "miou_waves",
                 n_boot: int = 1000, seed: int = 0) -> dict:
    """"``a`` beats ``b``" on ``metric``: paired bootstrap of the difference over the shared test records."""
    diff = paired_difference(a.stats, b.stats, metric, n_boot, seed)
    return {"claim": claim, "a": f"{a.method} ({a.protocol})", "b": f"{b.method} ({b.protocol})", **diff,
            "verdict": _verdict(diff["ci_low"], diff["ci_high"])}


def segmentation_table(encoders: dict[str, EncoderAdapter], ludb_root: Path | str,
                       config: SegmentationConfig = SegmentationConfig(),
                       split: dict[str, list[str]] | None = None, random_init: str | None = None,
                       figure_record: str | None = None, workers: int | None = None) -> SegmentationResults:
    """Every encoder under both protocols, plus the U-Net and neurokit2 on each distinct input, on LUDB.

    ``encoders``: name → adapter (include a random-init one and name it in ``random_init`` to get
    the claim "pretraining beats random init" for every other encoder). ``split`` defaults to
    :func:`ludb_split`. Claims are judged on ``miou_waves`` by a paired bootstrap over test records.
    The runs of an input are spread over ``workers`` processes (default: one per CPU core).
    """
    workers = workers or os.cpu_count() or 1
    split = split or ludb_split()
    records = [r for part in ("train", "val", "test") for r in split[part]]
    if not all(split[k] for k in ("train", "val", "test")):
        raise ValueError(f"the split needs train, val and test records, got { {k: len(v) for k, v in split.items()} }")
    groups: dict[tuple, list[str]] = {}
    for name, adapter in encoders.items():
        groups.setdefault((adapter.recipe, adapter.lead_names), []).append(name)
    runs, issues, figure = [], [], {}
    for (recipe, leads), names in groups.items():
        data = load_segmentation_set(ludb_root, recipe, leads, records)
        if data.skipped:
            raise ValueError(f"{ludb_root}: records {data.skipped} rejected by the input recipe; "
                             "pass a split without them")
        issues.append(issue_counts(data.issues).assign(input=f"{len(leads)} leads @ {data.fs:g} Hz"))
        jobs = [(name, protocol, encoders[name]) for name in names for protocol in PROTOCOLS]
        group_runs = run_all(jobs + [(UNET, "from scratch", None), (NEUROKIT, "no training", None)], data, split,
                             config, workers)
        runs += group_runs
        if not figure:
            rid = figure_record or split["test"][0]
            row, test_row = data.rows([rid])[0], split["test"].index(rid)
            figure = {"record_id": rid, "ecg": data.x[row], "truth": data.y[row], "leads": data.leads, "fs": data.fs,
                      "pred": {f"{r.method} ({r.protocol})": r.pred[test_row] for r in group_runs}}
    table = pd.concat([metric_rows(r.stats, config.bootstrap, config.seed)
                       .assign(method=r.method, protocol=r.protocol, input=r.input) for r in runs], ignore_index=True)
    table = table[["method", "protocol", "input", "metric", "value", "ci_low", "ci_high", "n_records"]]
    scores = pd.concat([r.stats.reset_index().assign(method=r.method, protocol=r.protocol, input=r.input)
                        for r in runs], ignore_index=True)
    by_key = {(r.method, r.protocol): r for r in runs}
    claims = []
    for name in encoders:
        claims.append(compare_runs(by_key[name, "fine-tuned"], by_key[name, "frozen"], "fine-tuned beats frozen",
                                   n_boot=config.bootstrap, seed=config.seed))
        if random_init is not None and name != random_init:
            for protocol in PROTOCOLS:
                claims.append(compare_runs(by_key[name, protocol], by_key[random_init, protocol],
                                           "pretraining beats random init", n_boot=config.bootstrap, seed=config.seed))
    return SegmentationResults(table, scores, pd.DataFrame(claims), figure,
                               pd.concat(issues, ignore_index=True), split, runs)


def protocol_text(results: SegmentationResults) -> str:
    """A caption: split, protocols and what every run did (one line per run)."""
    s = results.split
    lines = [f"LUDB split: train {len(s['train'])} records, validation {len(s['val'])} (epoch selection), "
             f"test {len(s['test'])}; scored on the annotated span of each lead, tolerance 150 ms."]
    for r in results.runs:
        details = ", ".join(f"{k} {v}" for k, v in r.protocol_info.items() if k != "split")
        lines.append(f"- {r.method} ({r.protocol}, {r.input}): {details}; "
                     f"{r.seconds:.0f} s ({r.cpu_seconds:.0f} s CPU)")
    return "\n".join(lines)


__all__ = ["TokenLayout", "EncoderAdapter", "kim_adapter", "weimann_adapter", "TokenHead", "TokenSegmenter",
           "SegmentationConfig", "SegmentationRun", "SegmentationResults", "CURVE_COLUMNS", "fit", "fit_and_score",
           "run_all", "predict_labels",
           "frozen_tokens", "compare_runs", "segmentation_table", "protocol_text"]
