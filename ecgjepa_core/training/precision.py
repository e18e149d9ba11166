"""Numeric precision of training and inference: the autocast context and the fast choice per device."""

from __future__ import annotations

import contextlib
from typing import Literal

import torch

Precision = Literal["fp32", "bf16", "fp16"]


def autocast_for(precision: Precision, device: torch.device) -> contextlib.AbstractContextManager:
    """Context manager for the whole forward (teacher included): fp32 none, bf16/fp16 autocast.

    fp16 (the authors' setting) needs CUDA and a GradScaler; bf16 runs on CPU and on GPUs that
    support it. Unsupported combinations raise at once with what to use instead.
    """
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "fp16":
        if device.type != "cuda":
            raise ValueError(f"precision fp16 (autocast + GradScaler) needs a CUDA device, got {device}; "
                             "use bf16 or fp32")
        return torch.autocast("cuda", dtype=torch.float16)
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"{torch.cuda.get_device_name(device)} does not support bf16; use fp16 or fp32")
    return torch.autocast(device.type, dtype=torch.bfloat16)


def fast_precision(device: torch.device) -> Precision:
    """``bf16`` where the hardware multiplies bf16 natively (CUDA with bf16, CPUs with AVX512-BF16/AMX),
    else ``fp32``. On CPUs without it, bf16 matmuls are emulated and far slower than fp32 (AVX2 EPYC:
    ~8 vs ~80 GFLOP/s), so autocast there would slow training down."""
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
