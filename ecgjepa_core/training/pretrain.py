"""ECG-JEPA pretraining loop (docs/method_kim.md §7): one function, :func:`pretrain`.

One iteration t (global, t = epoch · I + batch index):

1. set the learning rate ``schedule.lr(t)`` (timm semantics: at the start of the iteration);
2. draw one time mask for the batch from a seeded ``torch.Generator`` (identical on all ranks);
3. forward under the chosen precision, backward, optimiser step (through a GradScaler for fp16);
4. EMA teacher update with ``schedule.momentum(t)``. It runs even when the GradScaler skipped
   the optimiser step because of inf/NaN gradients, as the authors' loop does (docs/method_kim.md §7;
   see its §11): the teacher then moves towards an unchanged student and the schedule stays a
   function of t alone.

Data order: ``DistributedSampler`` (also for one process), reshuffled each epoch from
(seed, epoch); the last partial batch is kept. A :class:`~ecgjepa_core.training.replay.ReplayPlan`
gives the initial weights, the order of every epoch and the mask of every iteration instead
(the authors' loop replayed step by step: ``tests/test_golden_trajectory.py``). Under ``torchrun``
every rank takes an interleaved share of each global batch, so the union of the ranks' k-th
batches is exactly the k-th batch of a single-process run with the same global ``batch_size``
(when the dataset size is a multiple of the world size; otherwise the sampler pads with repeated
samples). DDP averages gradients over ranks, which is the full-batch mean when the ranks' shares are
equal. Stochastic depth draws from each rank's own RNG, so with ``drop_path_rate > 0`` a DDP run
matches a single-process run only in distribution.

Run folder: ``checkpoint.pt`` (everything needed to resume, rewritten atomically every
``save_every`` epochs and at the end; the one it replaces is kept as ``checkpoint.previous.pt``),
``encoder_epochNNN.pt`` (the student encoder alone, in our checkpoint format, at the same epochs),
``log.csv`` (one row per iteration). Checkpoints are mode 0600. Calling :func:`pretrain` again on
the same folder resumes from ``checkpoint.pt``, or from ``checkpoint.previous.pt`` with a warning
when the latest is unreadable (it is then kept as ``checkpoint.pt.damaged``); temporary files of
saves killed midway are removed first. On CPU the resumed run
ends bit-identical to an uninterrupted one, and a run repeated is identical (tested). On GPU,
some kernels (attention backward, atomics) are not deterministic, so runs agree only closely.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import random
import time
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from ecgjepa_core.progress import progress_bar
from ecgjepa_core.checkpoint import (CheckpointMismatchError, CorruptCheckpointError, atomic_save,
                                    load_state_strict, read_checkpoint_file, remove_stale_temporaries,
                                    save_checkpoint, save_weimann_encoder)
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import ECGJEPA
from ecgjepa_core.models.weimann import WeimannJEPA
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.training.config import RESUME_FREE_FIELDS, PretrainConfig
from ecgjepa_core.training.precision import autocast_for
from ecgjepa_core.training.replay import PlannedSampler, ReplayPlan
from ecgjepa_core.training.schedules import PretrainSchedule
from ecgjepa_core.training.weimann_objective import WeimannObjective


CHECKPOINT, PREVIOUS, LOG = "checkpoint.pt", "checkpoint.previous.pt", "log.csv"
DAMAGED = f"{CHECKPOINT}.damaged"
_STATE_KEYS = ("format", "model", "optimizer", "scaler", "epoch", "loss", "rng", "steps_per_epoch", "config",
               "model_config")
STATE_FORMAT = "ecgjepa-pretrain/1"
LOG_FIELDS = ("step", "epoch", "loss", "lr", "momentum", "samples_per_s")


@dataclass
class PretrainResult:
    final_loss: float          # loss of the last iteration (mean over the global batch)
    steps: int                 # global iterations done so far (including before a resume)
    epochs: int                # epochs done so far
    resumed_from_epoch: int    # 0 for a fresh run
    wall_time_s: float         # this call only
    run_dir: Path
    checkpoint: Path
    encoder: Path              # the student encoder of the last epoch, our checkpoint format
    log: Path


def adamw_param_groups(model: ECGJEPA, weight_decay: float) -> list[dict[str, Any]]:
    """The two groups of docs/method_kim.md §7 over student + predictor.

    Decayed: every parameter whose name has no "bias" and that is not 1-D, which includes the
    patch-embedding weight and the predictor's (1, 1, d) mask token, as the authors do.
    Not decayed: biases and 1-D parameters (LayerNorm weights).
    """
    decay, no_decay = [], []
    for module in (model.student, model.predictor):
        for name, p in module.named_parameters():
            if p.requires_grad:
                (no_decay if "bias" in name or p.ndim == 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: ECGJEPA, cfg: PretrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW over :func:`adamw_param_groups` with the fused kernel (CUDA and CPU).

    On CPU, ``foreach`` falls back to a loop over tensors: one AdamW step over the paper model's
    96 M parameters took 0.30 s with the default loop, 0.39 s foreach and 0.083 s fused (2 cores).
    """
    return torch.optim.AdamW(adamw_param_groups(model, cfg.weight_decay), lr=cfg.lr_min, betas=cfg.betas,
                             weight_decay=cfg.weight_decay, fused=True)


def train_step(trainer: torch.nn.Module, model: ECGJEPA, optimizer: torch.optim.Optimizer,
               scaler: torch.amp.GradScaler, amp: contextlib.AbstractContextManager, x: torch.Tensor,
               mask: torch.Tensor, momentum: float) -> torch.Tensor:
    """One iteration after the learning rate is set: forward under ``amp``, backward, optimiser step
    (through ``scaler``), EMA teacher update. ``trainer`` is ``model`` or its DDP wrapper. Returns the loss."""
    with amp:
        loss = trainer(x, mask)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)  # skipped by the scaler on inf/NaN gradients (fp16)
    scaler.update()
    model.update_teacher(momentum)  # also after a skipped step, as the authors do
    return loss


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` → ``cuda:LOCAL_RANK`` if CUDA is available, else ``cpu``; ``cuda`` → ``cuda:LOCAL_RANK``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        name = f"cuda:{local_rank}"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name} requested but CUDA is not available")
        torch.cuda.set_device(device)
    return device


def _start_distributed(device_name: str) -> tuple[int, int, torch.device, bool]:
    """(rank, world size, device, whether we initialised the process group). One process: (0, 1, …)."""
    if int(os.environ.get("WORLD_SIZE", "1")) == 1 and not dist.is_initialized():
        return 0, 1, resolve_device(device_name), False
    device = resolve_device(device_name, int(os.environ.get("LOCAL_RANK", "0")))
    started = not dist.is_initialized()
    if started:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device, started


def rng_state(mask_gen: torch.Generator, device: torch.device) -> dict[str, Any]:
    """This process's RNG states (torch CPU and CUDA, numpy, python, mask generator), loadable with weights_only."""
    np_state = np.random.get_state()
    return {"torch": torch.get_rng_state(), "mask": mask_gen.get_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                      "has_gauss": int(np_state[3]), "gauss": float(np_state[4])},
            "python": random.getstate()}


def set_rng_state(state: dict[str, Any], mask_gen: torch.Generator, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    mask_gen.set_state(state["mask"])
    if device.type == "cuda" and state["cuda"] is not None:
        torch.cuda.set_rng_state(state["cuda"], device)
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    random.setstate(state["python"])


def _resumable_state(run_dir: Path, cfg: PretrainConfig, model_cfg: ModelConfig, steps_per_epoch: int,
                     plan_digest: str | None, rank: int) -> dict[str, Any] | None:
    """The state to resume from: ``checkpoint.pt``, else ``checkpoint.previous.pt``; None for a fresh run.

    An unreadable or incomplete latest checkpoint falls back to the previous one (warning; rank 0
    renames the damaged file so that the next save cannot rotate it over the good one). Neither
    readable: CorruptCheckpointError naming both. A readable state of another run: ValueError.
    """
    latest, previous = run_dir / CHECKPOINT, run_dir / PREVIOUS
    problems = []
    for path in (latest, previous):
        if not path.is_file():
            continue
        try:
            state = read_checkpoint_file(path)
            if not isinstance(state, dict) or (missing := [k for k in _STATE_KEYS if k not in state]):
                raise CheckpointMismatchError(path, "incomplete pretraining checkpoint (lacks "
                                                    f"{missing if isinstance(state, dict) else 'everything'})")
        except (CorruptCheckpointError, CheckpointMismatchError) as err:
            problems.append(str(err))
            continue
        _check_resumable(state, path, cfg, model_cfg, steps_per_epoch, plan_digest)
        if path == previous:
            if rank == 0 and latest.is_file():
                latest.replace(run_dir / DAMAGED)
            warnings.warn(f"{'; '.join(problems) or f'{latest}: missing'}; resuming from {previous} "
                          f"(epoch {state['epoch']})" + (f", the damaged file kept as {DAMAGED}" if problems else ""))
        return state
    if problems:
        raise CorruptCheckpointError(run_dir, f"no readable checkpoint to resume from ({'; '.join(problems)}): "
                                              "move these files away to start the run afresh")
    return None


def _check_resumable(state: dict[str, Any], path: Path, cfg: PretrainConfig, model_cfg: ModelConfig,
                     steps_per_epoch: int, plan_digest: str | None) -> None:
    """Raise if the checkpoint in the run folder belongs to a different run (or replays another plan)."""
    if state.get("format") != STATE_FORMAT:
        raise ValueError(f"{path}: not a pretraining checkpoint ({state.get('format')!r})")
    saved = state["config"]
    changed = {f.name: (saved.get(f.name), getattr(cfg, f.name)) for f in fields(cfg)
               if f.name not in RESUME_FREE_FIELDS and saved.get(f.name) != getattr(cfg, f.name)}
    if changed:
        raise ValueError(f"{path}: the run folder holds a run with other settings (saved, now): {changed}; "
                         "use another run folder")
    if state["model_config"] != model_cfg.to_dict():
        raise ValueError(f"{path}: the run folder holds a run with another model configuration; use another run folder")
    if state["steps_per_epoch"] != steps_per_epoch:
        raise ValueError(f"{path}: {state['steps_per_epoch']} iterations per epoch saved, {steps_per_epoch} now "
                         "(dataset size, batch size or world size changed)")
    if state.get("plan") != plan_digest:
        raise ValueError(f"{path}: the run folder holds a run with another replay plan (or none); "
                         "use another run folder")


class StepLog:
    """``log.csv``, one row per iteration. On resume, rows from ``first_step`` on (written after the
    checkpoint by an interrupted run) are dropped so the log matches an uninterrupted run."""

    def __init__(self, path: Path, first_step: int):
        kept = []
        if first_step > 0 and path.is_file():
            with path.open(newline="") as f:
                kept = [row for row in csv.DictReader(f) if int(row["step"]) < first_step]
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("w", newline="", buffering=1)
        self.writer = csv.DictWriter(self.file, LOG_FIELDS)
        self.writer.writeheader()
        self.writer.writerows(kept)

    def write(self, **row: float) -> None:
        self.writer.writerow(row)

    def close(self) -> None:
        self.file.close()


def _signal(batch: torch.Tensor | list | tuple) -> torch.Tensor:
    """The (B, L, T) signal of a batch of tensors or of (signal, label) pairs."""
    return batch[0] if isinstance(batch, (list, tuple)) else batch


def loss_window(device: torch.device) -> int:
    """Steps whose losses are read back together: on a GPU a read every step would stall its queue."""
    return 50 if device.type == "cuda" else 1


def _flush_losses(pending: list[dict], world: int, log: "StepLog | None", since: float) -> tuple[float, float]:
    """Log the buffered steps: one all-reduce and one device-to-host copy for the whole window.

    ``pending`` rows hold the step's loss (a device tensor), its local batch size and what the log
    needs; each step's loss is the mean over the global batch (ranks weighted by their sizes), and
    ``samples_per_s`` is the window's rate since ``since``. Returns (last step's loss, now).
    """
    losses = torch.stack([p["loss"].float() * p["n"] for p in pending])
    sums = torch.stack([losses, torch.tensor([float(p["n"]) for p in pending], device=losses.device)])
    if world > 1:
        dist.all_reduce(sums)
    means, counts = (sums[0] / sums[1]).tolist(), sums[1].tolist()
    now = time.perf_counter()
    rate = round(sum(counts) / (now - since), 2)
    if log is not None:
        for p, mean in zip(pending, means):
            log.write(step=p["step"], epoch=p["epoch"], loss=mean, lr=p["lr"], momentum=p["momentum"],
                      samples_per_s=rate)
    pending.clear()
    return means[-1], now


def pretrain(dataset: Dataset, model_cfg: ModelConfig | WeimannConfig, cfg: PretrainConfig = PretrainConfig(),
             run_dir: str | Path = "runs/pretrain", max_epochs: int | None = None,
             plan: ReplayPlan | None = None) -> PretrainResult:
    """Pretrain ECG-JEPA on ``dataset`` (items: float32 (L, T) tensors or (signal, label) pairs).

    Resumes from ``run_dir/checkpoint.pt`` when it exists (same settings required).
    max_epochs: stop after this many epochs in this call (a checkpoint is written), e.g. to fit
    a job's time limit; calling again continues the same run.
    plan: the initial weights, data order and time masks to use instead of drawing them (Kim's objective
    only; ``training/replay.py``); a resumed run must be given the same plan.
    Under ``torchrun`` it trains with DistributedDataParallel (see the module docstring).
    A ``WeimannConfig`` trains Weimann & Conrad's ECG-JEPA instead: their masks, EMA order, L1 loss and
    optimiser rule (``training/weimann_objective.py``); its export is the target encoder in their format.
    """
    wall_start = time.perf_counter()
    run_dir = Path(run_dir)
    rank, world, device, started_dist = _start_distributed(cfg.device)
    log = None
    try:
        if cfg.batch_size % world:
            raise ValueError(f"batch_size {cfg.batch_size} is not divisible by the {world} processes")
        if plan is not None and isinstance(model_cfg, WeimannConfig):
            raise ValueError("a replay plan holds one time mask per batch (Kim's objective), not Weimann's masks")
        amp = autocast_for(cfg.precision, device)

        # Same seed on every rank: identical initial weights (student, teacher, predictor).
        torch.manual_seed(cfg.seed)
        weimann = WeimannObjective(model_cfg, cfg) if isinstance(model_cfg, WeimannConfig) else None
        model = weimann.model if weimann else ECGJEPA(model_cfg)
        if plan is not None and plan.weights is not None:
            load_state_strict(model, dict(plan.weights), "the replay plan's weights")
        model.to(device)
        # Per-rank streams for what is drawn per sample (stochastic depth, data workers).
        torch.manual_seed(cfg.seed + rank)
        np.random.seed(cfg.seed + rank)
        random.seed(cfg.seed + rank)
        mask_gen = torch.Generator().manual_seed(cfg.seed)  # same masks on every rank

        sampler = (PlannedSampler(dataset, plan.orders, world, rank) if plan is not None else
                   DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed,
                                      drop_last=False))
        loader = DataLoader(dataset, batch_size=cfg.batch_size // world, sampler=sampler, drop_last=False,
                            num_workers=cfg.num_workers, pin_memory=device.type == "cuda",
                            # workers restarted each epoch: every epoch's iterator then draws its seed from the
                            # global RNG as the in-process loader does, so workers change no number of the run
                            persistent_workers=False)
        schedule = PretrainSchedule(len(loader), cfg.epochs, cfg.lr, cfg.warmup_epochs, cfg.lr_min,
                                    cfg.ema_start, cfg.ema_end)
        if plan is not None:
            plan.check(len(dataset), cfg.epochs, schedule.steps_per_epoch, model_cfg.n_patches)
        plan_digest = plan.digest() if plan is not None else None
        optimizer = weimann.optimizer() if weimann else make_optimizer(model, cfg, device)
        scaler = torch.amp.GradScaler("cuda", enabled=cfg.precision == "fp16")
        trainer = (DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                           broadcast_buffers=False)  # buffers are the fixed sin-cos tables
                   if world > 1 else model)

        ckpt_path = run_dir / CHECKPOINT
        start_epoch, last_loss = 0, math.nan
        if rank == 0 and run_dir.is_dir():
            remove_stale_temporaries(run_dir)
        state = _resumable_state(run_dir, cfg, model_cfg, schedule.steps_per_epoch, plan_digest, rank)
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scaler.load_state_dict(state["scaler"])
            rngs = state["rng"]
            if len(rngs) != world:
                warnings.warn(f"{ckpt_path}: saved by {len(rngs)} processes, resumed by {world}: "
                              "per-sample random draws (stochastic depth) will not repeat exactly")
            set_rng_state(rngs[rank % len(rngs)], mask_gen, device)
            start_epoch, last_loss = state["epoch"], state["loss"]
        step = start_epoch * schedule.steps_per_epoch
        stop_epoch = cfg.epochs if max_epochs is None else min(cfg.epochs, start_epoch + max_epochs)

        log = StepLog(run_dir / LOG, step) if rank == 0 else None
        bar = progress_bar(total=(stop_epoch - start_epoch) * schedule.steps_per_epoch, desc="pretrain",
                   disable=not cfg.progress or rank != 0)
        model.train()
        window, pending = loss_window(device), []
        tick = time.perf_counter()
        for epoch in range(start_epoch, stop_epoch):
            sampler.set_epoch(epoch)
            for batch in loader:
                lr = weimann.lr(step, schedule.total_steps, schedule.warmup_steps) if weimann else schedule.lr(step)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                x = _signal(batch).to(device, torch.float32, non_blocking=True)
                momentum = schedule.momentum(step)
                if weimann:
                    loss = weimann.train_step(trainer, optimizer, scaler, amp, x, step, schedule.total_steps, momentum)
                else:
                    mask = model.sample_mask(mask_gen) if plan is None else plan.masks[step]
                    loss = train_step(trainer, model, optimizer, scaler, amp, x, mask, momentum)
                pending.append({"loss": loss.detach(), "n": x.shape[0], "step": step, "epoch": epoch, "lr": lr,
                                "momentum": momentum})
                step += 1
                bar.update()
                if len(pending) == window:
                    last_loss, tick = _flush_losses(pending, world, log, tick)
                    bar.set_postfix(epoch=epoch, loss=f"{last_loss:.4f}", lr=f"{lr:.2e}")
            if pending:
                last_loss, tick = _flush_losses(pending, world, log, tick)
            done = epoch + 1
            if done % cfg.save_every == 0 or done == stop_epoch:
                _save(run_dir, model, optimizer, scaler, mask_gen, device, cfg, model_cfg, schedule, done,
                      last_loss, rank, world, plan_digest)
                tick = time.perf_counter()
        bar.close()
        if world > 1:
            dist.barrier()  # files are complete before any rank returns
        return PretrainResult(last_loss, step, stop_epoch, start_epoch, time.perf_counter() - wall_start,
                              run_dir, ckpt_path, run_dir / encoder_file(stop_epoch), run_dir / LOG)
    finally:
        if log is not None:
            log.close()
        if started_dist:
            dist.destroy_process_group()


def encoder_file(epoch: int) -> str:
    """Name of the student-encoder export after ``epoch`` epochs."""
    return f"encoder_epoch{epoch:03d}.pt"


def _save(run_dir: Path, model: ECGJEPA, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
          mask_gen: torch.Generator, device: torch.device, cfg: PretrainConfig, model_cfg: ModelConfig,
          schedule: PretrainSchedule, epoch: int, loss: float, rank: int, world: int, plan_digest: str | None) -> None:
    """Rank 0 writes the resumable state (every rank's RNG included) and the student export."""
    rngs = [rng_state(mask_gen, device)]
    if world > 1:
        gathered = [None] * world
        dist.all_gather_object(gathered, rngs[0])
        rngs = gathered
    if rank != 0:
        return
    if (run_dir / CHECKPOINT).is_file():
        os.replace(run_dir / CHECKPOINT, run_dir / PREVIOUS)
    atomic_save({"format": STATE_FORMAT, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scaler": scaler.state_dict(), "epoch": epoch, "step": epoch * schedule.steps_per_epoch,
                 "steps_per_epoch": schedule.steps_per_epoch, "loss": loss, "rng": rngs,
                 "sampler": {"seed": cfg.seed, "epoch": epoch},  # the order is a function of (seed, epoch)
                 "plan": plan_digest,  # None without a replay plan
                 "config": asdict(cfg), "model_config": model_cfg.to_dict()}, run_dir / CHECKPOINT)
    extra = {"epoch": epoch, "step": epoch * schedule.steps_per_epoch, "loss": loss, "pretrain_config": asdict(cfg)}
    if isinstance(model, WeimannJEPA):
        save_weimann_encoder(run_dir / encoder_file(epoch), model, extra=extra)
    else:
        save_checkpoint(run_dir / encoder_file(epoch), model.student, extra=extra)
