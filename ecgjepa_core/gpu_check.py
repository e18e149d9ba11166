"""One check of a CUDA machine before a long run: ``python -m ecgjepa_core.gpu_check``.

Four parts, all written to one JSON (``--json``):

* ``environment``: torch, CUDA, the device, bf16 support, the TF32 switches.
* ``golden``: ``tests/test_golden.py`` on the device (``ECGJEPA_TEST_DEVICE``): the authors' tiny
  checkpoints reproduced in float32 to 1e-5 with each attention implementation.
* ``precision``: the paper configuration (mb: 768 wide, 12 blocks, multi-block masks, the authors'
  batch 64 and learning rate) trained by :func:`pretrain` for ``--steps`` steps in each precision,
  fp16 with its GradScaler being the authors' recipe and bf16 the package's fast choice on such a
  GPU, all with the default attention path, from the same weights, masks and data order (real
  PTB-XL rows of the shipped sample, repeated). ``loss_comparison`` sets each precision's mean loss
  over the last fifth of the steps beside fp32's.
* ``bench``: the reference path (the authors' computation: dense CroPA scores, fp32, default AdamW)
  against the default path on the device, with the benchmark's own functions: equal losses and
  representations asserted, then training and feature throughput and peak device memory.

``--quick --device cpu`` runs the same code at tiny size, the precision part in fp32 only (the test
suite runs it). ``python -m ecgjepa_core.bench`` itself measures the CPU (resident memory, CPU matmul
peaks); this module runs its functions on the GPU instead.
The exit status is 1 when a check fails; the JSON is written either way.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ecgjepa_core.models.config import PAPER_MB, ModelConfig
from ecgjepa_core.paths import REPO_ROOT, SAMPLE_DIR
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import LOG, pretrain

DEVICE_ENV = "ECGJEPA_TEST_DEVICE"  # read by tests/test_golden.py
# Mean loss over the last fifth of the steps, relative to fp32. Measured drift of bf16 autocast on
# one step of the paper model: ≤ 2 % (bench.BF16_RTOL); trajectories diverge further over steps.
LOSS_RTOL = 0.05
PAPER_LR_MB = 5e-5
TINY = PAPER_MB.replace(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2)


def environment(device: torch.device) -> dict[str, Any]:
    out: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform(),
                           "torch": torch.__version__, "cuda_runtime": torch.version.cuda, "device": str(device),
                           "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                           "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        out.update(name=props.name, capability=f"{props.major}.{props.minor}",
                   memory_gib=round(props.total_memory / 2**30, 1), bf16_supported=torch.cuda.is_bf16_supported())
    return out


def golden(device: torch.device, quick: bool = False) -> dict[str, Any]:
    """tests/test_golden.py on ``device`` in a subprocess (quick: the rb tests of one attention
    implementation); its exit status and summary line."""
    start = time.perf_counter()
    select = ["-k", "rb and factorised"] if quick else []
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/test_golden.py", "-q", "-p", "no:cacheprovider",
                           *select], cwd=REPO_ROOT, env={**os.environ, DEVICE_ENV: str(device)},
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    return {"ok": done.returncode == 0, "summary": lines[-1] if lines else done.stderr[-500:],
            "failures": [line for line in lines if line.startswith("FAILED")][:20],
            "seconds": round(time.perf_counter() - start, 1)}


def sample_corpus(cfg: ModelConfig, n: int) -> torch.utils.data.TensorDataset:
    """(n, L, T) float32: the shipped sample's real PTB-XL rows (leads I, II, V1–V6), repeated to ``n``."""
    signals = np.load(SAMPLE_DIR / "ptbxl_subset" / "signals_250hz.npy")[:, [0, 1, 6, 7, 8, 9, 10, 11]]
    x = torch.from_numpy(signals.astype(np.float32))[:, :cfg.n_leads, :cfg.n_samples]
    return torch.utils.data.TensorDataset(x[torch.arange(n) % len(x)])


def precision_run(cfg: ModelConfig, precision: str, steps: int, batch: int, device: torch.device,
                  run_dir: Path) -> dict[str, Any]:
    """``steps`` steps of :func:`pretrain` (10 epochs, 1 of warm-up) in ``precision``; losses from its log."""
    epochs = 10 if steps >= 10 else 1
    per_epoch = -(-steps // epochs)
    train = PretrainConfig(epochs=epochs, batch_size=batch, lr=PAPER_LR_MB, warmup_epochs=1, precision=precision,
                           save_every=epochs, seed=0, device=str(device), progress=False)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    result = pretrain(sample_corpus(cfg, per_epoch * batch), cfg, train, run_dir)
    with (run_dir / LOG).open(newline="") as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f)]
    scaler = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)["scaler"]
    return {"ok": bool(np.isfinite(losses).all()), "precision": precision, "steps": result.steps, "batch": batch,
            "losses": losses, "seconds": round(result.wall_time_s, 1),
            "samples_per_s": round(result.steps * batch / result.wall_time_s, 1),
            "peak_device_mib": _peak_mib(device), "grad_scale_end": scaler.get("scale") if scaler else None}


def _peak_mib(device: torch.device) -> int | None:
    """Peak device memory since the last reset (CUDA); None on CPU."""
    return round(torch.cuda.max_memory_allocated(device) / 2**20) if device.type == "cuda" else None


def compare_losses(runs: dict[str, dict[str, Any]], rtol: float = LOSS_RTOL) -> dict[str, Any]:
    """Each precision's mean loss over the last fifth of its steps beside fp32's (relative difference)."""
    def tail_mean(losses: list[float]) -> float:
        tail = losses[-max(1, len(losses) // 5):]
        return float(np.mean(tail))

    ref = tail_mean(runs["fp32"]["losses"])
    out: dict[str, Any] = {"fp32_tail_mean": ref, "rtol": rtol}
    for name, run in runs.items():
        if name == "fp32":
            continue
        mean = tail_mean(run["losses"])
        finite = bool(np.isfinite(run["losses"]).all())
        rel = abs(mean - ref) / abs(ref)
        out[name] = {"tail_mean": mean, "rel_diff": rel, "all_finite": finite, "ok": finite and rel <= rtol}
    out["ok"] = all(v["ok"] for v in out.values() if isinstance(v, dict))
    return out


def bench_on_device(cfg: ModelConfig, device: torch.device, batch: int, repeats: int) -> dict[str, Any]:
    """The benchmark's equality check and its training / feature measurements of both paths on ``device``."""
    from ecgjepa_core import bench

    paths = bench.paths(device)
    # Asserts equality (fp32 to 1e-5; bf16 within bench.BF16_RTOL where the default path uses it).
    equality = bench.check_equal(cfg, device, min(batch, 4), bf16=paths["default"].precision == "bf16")
    out: dict[str, Any] = {"ok": True, "equality": equality}
    mask = bench._masks(cfg, 1)[0]
    for name, path in paths.items():
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        train = bench.measure_training(cfg, path, device, batch, 1, repeats)
        flops = bench.step_flops(cfg, path, device, mask)
        features = bench.measure_features(cfg, path, device, 4 * batch, batch, 1, repeats)
        out[name] = {"attention": path.attention, "precision": path.precision, "batch": batch,
                     "train_samples_per_s": train["samples_per_s"],
                     "train_tflops": flops * train["samples_per_s"] / 1e12,
                     "features_samples_per_s": features["samples_per_s"],
                     "peak_device_mib_train_and_features": _peak_mib(device)}
    out["train_speedup"] = out["default"]["train_samples_per_s"] / out["reference"]["train_samples_per_s"]
    out["features_speedup"] = out["default"]["features_samples_per_s"] / out["reference"]["features_samples_per_s"]
    return out


def _section(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one part; an exception becomes its recorded error, so the other parts still run."""
    try:
        return fn()
    except Exception as err:  # noqa: BLE001 - the JSON reports every failure
        return {"ok": False, "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()[-3000:]}


def run(device: torch.device, quick: bool, steps: int, batch: int, precisions: list[str],
        with_golden: bool = True) -> dict[str, Any]:
    start = time.perf_counter()
    cfg = TINY if quick else PAPER_MB
    result: dict[str, Any] = {"environment": environment(device), "quick": quick,
                              "model": {k: getattr(cfg, k) for k in ("embed_dim", "depth", "num_heads",
                                                                     "pred_embed_dim", "pred_depth",
                                                                     "pred_num_heads", "attention")}}
    if with_golden:
        result["golden"] = _section(lambda: golden(device, quick))
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision in precisions:
            runs[precision] = _section(lambda: precision_run(cfg, precision, steps, batch, device,
                                                             Path(tmp) / precision))
    result["precision"] = runs
    result["loss_comparison"] = (compare_losses(runs) if all(r["ok"] for r in runs.values()) and "fp32" in runs
                                 else {"ok": False, "error": "a precision run failed or fp32 was not run"})
    result["bench"] = _section(lambda: bench_on_device(cfg, device, batch, 1 if quick else 3))
    sections = [result.get("golden"), *runs.values(), result["loss_comparison"], result["bench"]]
    result["ok"] = all(s["ok"] for s in sections if s is not None)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ecgjepa_core.gpu_check", description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    ap.add_argument("--quick", action="store_true", help="tiny model, a few steps (for the test suite)")
    ap.add_argument("--steps", type=int, help="training steps per precision (default 200; quick: 4)")
    ap.add_argument("--batch", type=int, help="batch size (default 64, the paper's mb batch; quick: 2)")
    ap.add_argument("--precisions", help="comma-separated (default: fp32,fp16,bf16 on CUDA, fp32 on CPU)")
    ap.add_argument("--no-golden", action="store_true", help="skip tests/test_golden.py")
    ap.add_argument("--json", type=Path, default=Path(os.environ.get("OUT", REPO_ROOT / "results")) / "gpu_check.json",
                    help="output file (default: $OUT/gpu_check.json, else results/gpu_check.json)")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: torch {torch.__version__} sees no CUDA device "
                         "(install a CUDA build of torch, or use --device cpu --quick)")
    precisions = (args.precisions.split(",") if args.precisions
                  else ["fp32", "fp16", "bf16"] if device.type == "cuda" else ["fp32"])
    steps = args.steps or (4 if args.quick else 200)
    batch = args.batch or (2 if args.quick else 64)
    result = run(device, args.quick, steps, batch, precisions, with_golden=not args.no_golden)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"gpu_check: {'ok' if result['ok'] else 'FAILED'} in {result['seconds']:.0f} s; {args.json}", file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
