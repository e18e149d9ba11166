"""Reference path vs default path, side by side on this machine: ``python -m ecgjepa_core.bench``.

For the paper configuration (docs/method_kim.md §9) and the cpu-study model it measures

* training-step throughput (samples/s, median of timed steps after warm-up) at batch 8 and at the
  largest batch that fits comfortably: predicted from the measured memory at batch 8 to stay under
  ``--ram-fraction`` of RAM (then capped by ``--max-batch`` to bound the run time, which is said);
* frozen feature-extraction throughput (:func:`extract_features`);
* peak resident memory of each measurement above the process's resident set before it;
* the matmul FLOPs of each path's step (``FlopCounterMode``: the reference path's dense 400 × 400
  scores count in full) and the achieved GFLOP/s, against this machine's measured fp32 and bf16
  matmul peaks.

Paths. ``reference``: dense scores with the CroPA mask as −inf and an explicit softmax, float32,
AdamW with PyTorch's default (per-tensor loop) implementation: how the authors compute.
``default``: what the package uses by default: the configuration's attention (the paper's default, the
cpu-study profile's own), :func:`~ecgjepa_core.training.precision.fast_precision` (``--precision`` overrides it), :func:`~ecgjepa_core.training.pretrain.make_optimizer` and the
same :func:`~ecgjepa_core.training.pretrain.train_step` that :func:`pretrain` runs.

Before timing, the same run asserts that both paths compute the same loss (before and after one
optimiser + EMA step) and the same representation: float32 to 1e-5 absolute, and, if bf16 is used or
``--bf16-check`` is given, the bf16 autocast path within ``BF16_RTOL`` of float32.

``--quick`` shrinks everything (tiny models, batch 2, one repeat) so the test suite can run it.
Output: a table on stdout and, with ``--json PATH``, all numbers as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.data.cache import CachedECGDataset, build_cache
from ecgjepa_core.data.preprocess import PAPER_RECIPE
from ecgjepa_core.data.ptbxl import PtbxlReader
from ecgjepa_core.evaluation.features import extract_features
from ecgjepa_core.models.masking import sample_time_mask
from ecgjepa_core.models.ecgjepa import ECGJEPA, ema_momentum
from ecgjepa_core.paths import SAMPLE_DIR, shared_dir
from ecgjepa_core.study.profiles import cpu_study
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.precision import autocast_for, fast_precision
from ecgjepa_core.training.pretrain import adamw_param_groups, make_optimizer, train_step

FP32_TOL = 1e-5
# bf16 keeps 8 mantissa bits (unit roundoff 2^-9 ≈ 2e-3 per rounding); through 12 blocks of sums of
# hundreds of terms the loss and the mean-pooled representation drift by up to ~1 % of their scale.
BF16_RTOL = 2e-2
LR = 1e-4  # learning rate of the benchmark's steps (large enough that one update changes the loss visibly)

CONFIGS = {
    "paper": ModelConfig(),
    "cpu-study": cpu_study().model,  # the profile's model, its attention included
}
QUICK_CONFIGS = {
    "tiny": ModelConfig(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2,
                        n_leads=4, n_patches=20, patch_size=10),
}


@dataclass(frozen=True)
class BenchPath:
    """One way of computing: attention implementation, precision, optimiser factory."""

    name: str
    attention: str
    precision: str
    optimizer: Callable[[ECGJEPA], torch.optim.Optimizer]


def paths(device: torch.device, precision: str = "auto", attention: str | None = None) -> dict[str, BenchPath]:
    """The two paths; ``precision`` "auto" is :func:`fast_precision`, ``attention`` None the package default."""
    cfg = PretrainConfig()
    ref_opt = lambda m: torch.optim.AdamW(adamw_param_groups(m, cfg.weight_decay), lr=cfg.lr_min,  # noqa: E731
                                          betas=cfg.betas, weight_decay=cfg.weight_decay)
    default_opt = lambda m: make_optimizer(m, cfg, device)  # noqa: E731
    return {"reference": BenchPath("reference", "reference", "fp32", ref_opt),
            "default": BenchPath("default", attention or ModelConfig().attention,
                                 fast_precision(device) if precision == "auto" else precision, default_opt)}


# ---------------------------------------------------------------- memory


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class PeakMemory:
    """Peak resident memory (MiB) of a block above the resident set at its start (Linux: VmHWM reset
    through /proc/self/clear_refs after returning freed heap with malloc_trim)."""

    def __enter__(self) -> "PeakMemory":
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
        self.start = _rss_kib("VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        self.mib = max(0, _rss_kib("VmHWM") - self.start) / 1024


def total_ram_mib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20


# ---------------------------------------------------------------- timing


def median_time(fn: Callable[[], Any], warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak(dtype: torch.dtype, m: int, k: int, n: int, repeats: int) -> float:
    """GFLOP/s of the best of ``x @ w`` and ``F.linear`` at the encoder's MLP shape (m tokens, k → n)."""
    x, w = torch.randn(m, k).to(dtype), torch.randn(n, k).to(dtype)
    best = 0.0
    for fn in (lambda: x @ w.T, lambda: torch.nn.functional.linear(x, w)):
        best = max(best, 2 * m * k * n / median_time(fn, 1, repeats) / 1e9)
    return best


# ---------------------------------------------------------------- the model on each path


def _masks(cfg: ModelConfig, n: int) -> list[torch.Tensor]:
    """The same ``n`` training masks (``cfg.mask``, e.g. rb: 30–34 of 50 masked) for every path."""
    gen = torch.Generator().manual_seed(0)
    return [sample_time_mask(cfg.mask, cfg.n_patches, gen) for _ in range(n)]


def _model(cfg: ModelConfig, path: BenchPath, state: dict | None = None) -> ECGJEPA:
    torch.manual_seed(0)
    model = ECGJEPA(cfg.replace(attention=path.attention))
    if state is not None:
        model.load_state_dict(state)
    return model.train()


class Trainer:
    """A model, its optimiser and the step exactly as :func:`pretrain` runs it, on one path."""

    def __init__(self, cfg: ModelConfig, path: BenchPath, device: torch.device, state: dict | None = None):
        self.model = _model(cfg, path, state).to(device)
        self.optimizer = path.optimizer(self.model)
        for group in self.optimizer.param_groups:
            group["lr"] = LR
        self.scaler = torch.amp.GradScaler(device.type, enabled=False)
        self.amp = autocast_for(path.precision, device)
        self.device = device
        self.t = 0

    def step(self, x: torch.Tensor, mask: torch.Tensor) -> float:
        loss = train_step(self.model, self.model, self.optimizer, self.scaler, self.amp, x, mask,
                          ema_momentum(self.t, 10_000))
        self.t += 1
        return loss.item()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def check_equal(cfg: ModelConfig, device: torch.device, batch: int, bf16: bool) -> dict[str, Any]:
    """Loss (step 0 and after one update) and representation of both paths from the same weights.

    Stochastic depth draws from the global RNG in the same order on both paths, so each step is
    seeded identically. Raises AssertionError if they differ beyond the tolerances.
    """
    p = paths(device, "auto", cfg.attention)
    ref_path = p["reference"]
    fp32_default = BenchPath("default-fp32", p["default"].attention, "fp32", p["default"].optimizer)
    x = torch.randn(batch, cfg.n_leads, cfg.n_samples, generator=torch.Generator().manual_seed(1)).to(device)
    masks = _masks(cfg, 2)
    state = _model(cfg, ref_path).state_dict()

    def run(path: BenchPath) -> tuple[list[float], torch.Tensor]:
        trainer = Trainer(cfg, path, device, state)
        losses = []
        for i, mask in enumerate(masks):
            torch.manual_seed(100 + i)
            losses.append(trainer.step(x, mask))
        with torch.no_grad(), autocast_for(path.precision, device):
            rep = trainer.model.student.eval().representation(x).float()
        return losses, rep

    ref_losses, ref_rep = run(ref_path)
    out: dict[str, Any] = {"batch": batch, "reference_loss": ref_losses}
    losses, rep = run(fp32_default)
    out["fp32"] = {"loss_abs_diff": max(abs(a - b) for a, b in zip(losses, ref_losses)),
                   "representation_max_abs_diff": float((rep - ref_rep).abs().max()), "tolerance": FP32_TOL}
    assert out["fp32"]["loss_abs_diff"] <= FP32_TOL, out["fp32"]
    assert out["fp32"]["representation_max_abs_diff"] <= FP32_TOL, out["fp32"]
    if bf16:
        bf16_path = BenchPath("default-bf16", p["default"].attention, "bf16", p["default"].optimizer)
        losses, rep = run(bf16_path)
        out["bf16"] = {"loss_rel_diff": max(abs(a - b) / abs(b) for a, b in zip(losses, ref_losses)),
                       "representation_rel_diff": _rel(rep, ref_rep), "tolerance_rel": BF16_RTOL}
        assert out["bf16"]["loss_rel_diff"] <= BF16_RTOL, out["bf16"]
        assert out["bf16"]["representation_rel_diff"] <= BF16_RTOL, out["bf16"]
    return out


def step_flops(cfg: ModelConfig, path: BenchPath, device: torch.device, mask: torch.Tensor) -> int:
    """Matmul FLOPs of one training step per sample (forward, backward), as this path computes them."""
    trainer = Trainer(cfg, path, device)
    x = torch.randn(1, cfg.n_leads, cfg.n_samples, device=device)
    with FlopCounterMode(display=False) as counter:
        trainer.step(x, mask)
    return counter.get_total_flops()


def measure_training(cfg: ModelConfig, path: BenchPath, device: torch.device, batch: int, warmup: int,
                     repeats: int) -> dict[str, float]:
    masks = iter(_masks(cfg, warmup + repeats))
    x = torch.randn(batch, cfg.n_leads, cfg.n_samples, generator=torch.Generator().manual_seed(2)).to(device)
    with PeakMemory() as mem:
        trainer = Trainer(cfg, path, device)
        seconds = median_time(lambda: trainer.step(x, next(masks)), warmup, repeats)
        del trainer
    return {"batch": batch, "step_s": seconds, "samples_per_s": batch / seconds, "peak_mib": mem.mib}


def measure_features(cfg: ModelConfig, path: BenchPath, device: torch.device, n: int, batch: int, warmup: int,
                     repeats: int) -> dict[str, float]:
    x = torch.randn(n, cfg.n_leads, cfg.n_samples, generator=torch.Generator().manual_seed(3))
    with PeakMemory() as mem:
        encoder = _model(cfg, path).student.to(device)
        with FlopCounterMode(display=False) as counter:
            extract_features(encoder, x[:1], batch_size=1, bf16=path.precision == "bf16", device=device,
                             progress=False)
        seconds = median_time(lambda: extract_features(encoder, x, batch_size=batch, bf16=path.precision == "bf16",
                                                       device=device, progress=False), warmup, repeats)
    flops = counter.get_total_flops() * n
    return {"n": n, "batch": batch, "seconds": seconds, "samples_per_s": n / seconds, "peak_mib": mem.mib,
            "gflop_per_sample": flops / n / 1e9, "gflops_achieved": flops / seconds / 1e9}


# ---------------------------------------------------------------- the data side


def default_ptbxl_dir() -> Path:
    """The real PTB-XL records in ../shared/data where present, else the shipped sample."""
    shared = shared_dir() / "data" / "ptbxl"
    return shared if shared.is_dir() else SAMPLE_DIR / "ptbxl"


def measure_data(ptbxl_dir: Path, repeats: int) -> dict[str, Any]:
    """Prepared-cache build from WFDB (read + FFT resample, 500 Hz -> 2500 samples) in records/s with 1
    and 2 workers (best of ``repeats``), and a DataLoader over the cache in samples/s (batch 64)."""
    reader = PtbxlReader(ptbxl_dir)
    n = len(reader.index())
    out: dict[str, Any] = {"ptbxl_dir": str(ptbxl_dir), "records": n}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            best = min(_timed(lambda: build_cache(reader, PAPER_RECIPE, Path(tmp) / f"c{workers}", workers=workers,
                                                  progress=False)) for _ in range(repeats))
            out[f"cache_build_records_per_s_{workers}_workers"] = n / best
        loader = torch.utils.data.DataLoader(CachedECGDataset(Path(tmp) / "c1"), batch_size=64, shuffle=True)
        seconds = _timed(lambda: [None for _ in range(20) for _ in loader])
        out["loader_samples_per_s"] = 20 * n / seconds
    return out


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---------------------------------------------------------------- the run


def run(quick: bool = False, repeats: int = 3, warmup: int = 1, max_batch: int = 32, ram_fraction: float = 0.5,
        bf16_check: bool = False, configs: list[str] | None = None, data_dir: Path | None = None,
        precision: str = "auto") -> dict[str, Any]:
    device = torch.device("cpu")
    torch.set_num_threads(os.cpu_count() or 1)
    chosen = QUICK_CONFIGS if quick else CONFIGS
    chosen = {k: v for k, v in chosen.items() if configs is None or k in configs}
    base_batch, feat_n = (2, 4) if quick else (8, 16)
    if quick:
        repeats, warmup, max_batch = 1, 1, 4
    p = paths(device, precision)
    use_bf16 = p["default"].precision == "bf16" or bf16_check
    shape = (256, 64, 256) if quick else (1600, 768, 3072)  # teacher MLP at batch 4: 1600 tokens, 768 → 3072
    result: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "torch": torch.__version__,
                    "threads": torch.get_num_threads(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                    "ram_mib": round(total_ram_mib()), "load_average_start": os.getloadavg(),
                    "matmul_shape_mkn": shape,
                    "fp32_matmul_peak_gflops": matmul_peak(torch.float32, *shape, repeats=max(3, repeats)),
                    "bf16_matmul_peak_gflops": matmul_peak(torch.bfloat16, *shape, repeats=max(3, repeats))},
        "paths": {name: {"attention": q.attention if name == "reference" else "the configuration's",
                         "precision": q.precision,
                         "optimizer": "AdamW default (per-tensor loop)" if name == "reference" else "AdamW fused"}
                  for name, q in p.items()},
        "settings": {"quick": quick, "repeats": repeats, "warmup": warmup, "max_batch": max_batch,
                     "ram_fraction": ram_fraction},
        "configs": {},
    }
    peak_key = "bf16_matmul_peak_gflops" if p["default"].precision == "bf16" else "fp32_matmul_peak_gflops"
    for cname, cfg in chosen.items():
        p = paths(device, precision, cfg.attention)
        entry: dict[str, Any] = {"model": {k: getattr(cfg, k) for k in (
            "embed_dim", "depth", "num_heads", "pred_embed_dim", "pred_depth", "pred_num_heads", "n_leads",
            "n_patches", "patch_size", "attention")}}
        entry["equality"] = check_equal(cfg, device, 1 if not quick and cname == "paper" else 2, use_bf16)
        mask = _masks(cfg, 1)[0]
        train: dict[str, Any] = {}
        for name, path in p.items():
            train[name] = [measure_training(cfg, path, device, base_batch, warmup, repeats)]
        # Largest batch that fits comfortably: predicted from the batch-`base_batch` peaks (the larger of
        # the two paths; everything above the starting resident set counted as per-sample, so conservative).
        per_sample = max(t[0]["peak_mib"] for t in train.values()) / base_batch
        budget = ram_fraction * total_ram_mib() - _rss_kib("VmRSS") / 1024
        fits = base_batch
        while per_sample * fits * 2 <= budget:
            fits *= 2
        large = min(fits, max_batch)
        entry["large_batch"] = {"fits_under_ram_fraction": fits, "measured": large,
                                "capped_by_max_batch": large < fits, "same_for_both_paths": True,
                                "predicted_peak_mib_at_fits": per_sample * fits}
        if large > base_batch:
            for name, path in p.items():
                train[name].append(measure_training(cfg, path, device, large, warmup, repeats))
        for name, path in p.items():
            flops = step_flops(cfg, path, device, mask)
            for t in train[name]:
                t["gflop_per_sample"] = flops / 1e9
                t["gflops_achieved"] = flops * t["samples_per_s"] / 1e9
                t["fraction_of_fp32_peak"] = t["gflops_achieved"] / result["machine"]["fp32_matmul_peak_gflops"]
                t["fraction_of_bf16_peak"] = t["gflops_achieved"] / result["machine"]["bf16_matmul_peak_gflops"]
        entry["training"] = train
        entry["features"] = {name: measure_features(cfg, path, device, feat_n, min(feat_n, 16), warmup, repeats)
                             for name, path in p.items()}
        entry["ratios"] = {
            **{f"training_batch{t['batch']}": d["samples_per_s"] / t["samples_per_s"]
               for t, d in zip(train["reference"], train["default"])},
            "features": entry["features"]["default"]["samples_per_s"] / entry["features"]["reference"]["samples_per_s"],
            "default_fraction_of_its_precision_peak": train["default"][-1]["gflops_achieved"]
            / result["machine"][peak_key],
        }
        result["configs"][cname] = entry
    result["data"] = measure_data(SAMPLE_DIR / "ptbxl" if quick else data_dir or default_ptbxl_dir(), max(1, repeats))
    result["machine"]["load_average_end"] = os.getloadavg()
    return result


def table(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"machine: {m['processor'] or m['platform']}, {m['threads']} threads, {m['cpu_capability']}, "
             f"torch {m['torch']}; matmul peak fp32 {m['fp32_matmul_peak_gflops']:.1f} GFLOP/s, "
             f"bf16 {m['bf16_matmul_peak_gflops']:.1f} GFLOP/s; load {m['load_average_start'][0]:.2f} → "
             f"{m['load_average_end'][0]:.2f}",
             "paths: " + "; ".join(f"{k} = {v['attention']} attention, {v['precision']}, {v['optimizer']}"
                                   for k, v in result["paths"].items()),
             "",
             "| config | measurement | reference | default | ratio | ref GFLOP/s | default GFLOP/s "
             "| ref peak MiB | default peak MiB |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for cname, e in result["configs"].items():
        for r, d in zip(e["training"]["reference"], e["training"]["default"]):
            lines.append(f"| {cname} | train samples/s, batch {r['batch']} | {r['samples_per_s']:.2f} | "
                         f"{d['samples_per_s']:.2f} | {d['samples_per_s'] / r['samples_per_s']:.2f}× | "
                         f"{r['gflops_achieved']:.1f} | {d['gflops_achieved']:.1f} | {r['peak_mib']:.0f} | "
                         f"{d['peak_mib']:.0f} |")
        r, d = e["features"]["reference"], e["features"]["default"]
        lines.append(f"| {cname} | features samples/s, batch {r['batch']} | {r['samples_per_s']:.2f} | "
                     f"{d['samples_per_s']:.2f} | {d['samples_per_s'] / r['samples_per_s']:.2f}× | "
                     f"{r['gflops_achieved']:.1f} | {d['gflops_achieved']:.1f} | {r['peak_mib']:.0f} | "
                     f"{d['peak_mib']:.0f} |")
    lines.append("")
    for cname, e in result["configs"].items():
        eq, lb = e["equality"], e["large_batch"]
        bf = (f"; bf16 loss rel diff {eq['bf16']['loss_rel_diff']:.1e}, representation rel diff "
              f"{eq['bf16']['representation_rel_diff']:.1e} (≤ {eq['bf16']['tolerance_rel']})" if "bf16" in eq else "")
        lines.append(f"{cname}: fp32 loss |diff| {eq['fp32']['loss_abs_diff']:.1e}, representation max |diff| "
                     f"{eq['fp32']['representation_max_abs_diff']:.1e} (≤ {eq['fp32']['tolerance']}){bf}; "
                     f"largest batch under the RAM budget {lb['fits_under_ram_fraction']}"
                     f"{', measured at ' + str(lb['measured']) + ' (--max-batch)' if lb['capped_by_max_batch'] else ''}; "
                     f"default path at {e['ratios']['default_fraction_of_its_precision_peak']:.0%} of its "
                     f"precision's matmul peak")
    if "data" in result:
        d = result["data"]
        lines.append(f"data: prepared cache from {d['records']} PTB-XL WFDB records ({d['ptbxl_dir']}): "
                     f"{d['cache_build_records_per_s_1_workers']:.0f} records/s with 1 worker, "
                     f"{d['cache_build_records_per_s_2_workers']:.0f} with 2; DataLoader over the cache "
                     f"{d['loader_samples_per_s']:.0f} samples/s (batch 64, main process)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny model, batch 2, one repeat (for tests)")
    ap.add_argument("--json", type=Path, help="write all numbers to this file")
    ap.add_argument("--repeats", type=int, default=3, help="timed steps per measurement (median)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps before timing")
    ap.add_argument("--max-batch", type=int, default=32, help="cap on the large batch (run time)")
    ap.add_argument("--ram-fraction", type=float, default=0.5, help="memory budget for the large batch")
    ap.add_argument("--bf16-check", action="store_true", help="also check bf16 agreement when fp32 is the default")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                    help="the default path's precision (auto: bf16 where the hardware multiplies it natively)")
    ap.add_argument("--config", action="append", choices=sorted(CONFIGS), help="only these configurations")
    ap.add_argument("--data-dir", type=Path, help="PTB-XL folder for the data-side measurement "
                                                  "(default: ../shared/data/ptbxl, else the shipped sample)")
    args = ap.parse_args(argv)
    result = run(args.quick, args.repeats, args.warmup, args.max_batch, args.ram_fraction, args.bf16_check,
                 args.config, args.data_dir, args.precision)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
