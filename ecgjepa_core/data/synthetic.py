"""Synthetic ECGs from ``deepfake-ecg`` (Pulse2Pulse GAN, Thambawita et al. 2021), on CPU.

The package's own ``generate`` writes one text file per ECG and draws its noise from the global
torch RNG. Here the same network is called directly: the input noise U(−1, 1) of shape
(8, 5000) comes from a private ``torch.Generator``, the output is scaled as the package does
(× 6000, truncated to integers = µV) and divided by 1000 → mV. Leads: I, II, V1–V6, 10 s at
500 Hz.

Records are generated in aligned blocks of :data:`BLOCK`: block k holds records k·BLOCK …
(k+1)·BLOCK − 1, its noise seeded from (seed, k). Record i is therefore the same array whichever
function asks for it, in whatever order, in whatever process — :func:`synthetic_ecgs` and
:class:`SyntheticReader` agree exactly — and the global RNGs are never touched.
"""

from __future__ import annotations

import functools
import importlib.metadata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ecgjepa_core.data.preprocess import select_leads
from ecgjepa_core.data.records import JEPA_8_LEADS, STANDARD_12_LEADS, Record, RecordError

FS = 500.0
N_SAMPLES = 5000
LEADS: tuple[str, ...] = JEPA_8_LEADS  # the generator's 8 output channels, in this order
BLOCK = 32  # records per generator call (~10x faster per ECG than one at a time on CPU); defines the records
UV_PER_UNIT = 6000  # deepfake-ecg writes int(output · 6000) as µV


@functools.cache
def _generator() -> nn.Module:
    """The pretrained Pulse2Pulse generator shipped in the wheel, on CPU, eval mode, loaded once per process."""
    import deepfakeecg  # imported here: only synthetic data needs it

    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its __init__ calls the deprecated nn.init.kaiming_normal
        net = deepfakeecg.Generator()  # random init (global RNG, restored on exit) is overwritten below
    weights = Path(deepfakeecg.__file__).parent / "checkpoints" / "g_stat.pt"
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True)["stat_dict"])
    return net.eval().requires_grad_(False)


def _block_seed(seed: int, block: int) -> int:
    return int(np.random.SeedSequence([seed, block]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def generate_block(seed: int, block: int) -> np.ndarray:
    """Records block·BLOCK … block·BLOCK + BLOCK − 1 of ``seed``: (BLOCK, 8, 5000) float32 mV."""
    gen = torch.Generator().manual_seed(_block_seed(seed, block))
    noise = torch.empty(BLOCK, len(LEADS), N_SAMPLES).uniform_(-1.0, 1.0, generator=gen)
    with torch.inference_mode():
        microvolts = torch.trunc(_generator()(noise) * UV_PER_UNIT)
    return (microvolts / 1000.0).numpy().astype(np.float32) + np.float32(0.0)  # + 0 turns −0.0 into 0.0


def synthetic_ecgs(n: int, seed: int = 0, start: int = 0, leads: int = 8) -> np.ndarray:
    """Records ``start`` … ``start + n − 1`` of ``seed``: (n, leads, 5000) float32 mV at 500 Hz.

    leads=8: I, II, V1–V6 as generated. leads=12: the standard order, with III, aVR, aVL and aVF
    derived from I and II (``data.preprocess.select_leads``, docs/data.md §1).
    """
    if n < 0 or start < 0 or leads not in (8, 12):
        raise ValueError(f"need n >= 0, start >= 0 and leads 8 or 12, got n={n}, start={start}, leads={leads}")
    if n == 0:
        return np.zeros((0, leads, N_SAMPLES), np.float32)
    first, last = start // BLOCK, (start + n - 1) // BLOCK
    ecgs = np.concatenate([generate_block(seed, b) for b in range(first, last + 1)])
    ecgs = ecgs[start - first * BLOCK:][:n]
    if leads == 12:
        ecgs = np.stack([select_leads(x, LEADS, STANDARD_12_LEADS, "synthetic") for x in ecgs])
    return ecgs


class SyntheticReader:
    """A reader (``data.records`` interface) over ``n`` synthetic ECGs of ``seed``, made on demand.

    ``index()``: record_id ``"0"`` … ``str(n − 1)``, plus seed and generator version (so a cache's
    source fingerprint changes with them). ``read`` returns 8 leads in mV at 500 Hz; a 12-lead
    :class:`~ecgjepa_core.data.preprocess.Recipe` derives the other limb leads. The last block
    generated is kept, so reading ids in order costs one generator call per :data:`BLOCK` records.
    """

    # The generator runs torch, whose thread pool a forked cache worker can inherit mid-lock and hang on
    # (seen in a process that had used torch before): caches of this reader are built in the process itself.
    in_process_only = True

    def __init__(self, n: int, seed: int = 0):
        self.n, self.seed = int(n), int(seed)
        self._block: tuple[int, np.ndarray] | None = None

    def index(self) -> pd.DataFrame:
        version = importlib.metadata.version("deepfake-ecg")
        return pd.DataFrame({"record_id": [str(i) for i in range(self.n)], "seed": self.seed,
                             "generator": f"deepfake-ecg {version}"})

    def read(self, record_id: str) -> Record:
        source = Path(f"deepfake-ecg/seed{self.seed}/{record_id}")
        i = int(record_id) if str(record_id).isdigit() else -1
        if not 0 <= i < self.n:
            raise RecordError(source, "unknown_record", f"no record {record_id!r} among {self.n}")
        block = i // BLOCK
        if self._block is None or self._block[0] != block:
            self._block = (block, generate_block(self.seed, block))
        signal = self._block[1][i - block * BLOCK].copy()
        return Record(str(record_id), signal, FS, LEADS, source, {"units": "mV", "seed": self.seed, "zero_leads": ()})

    def __getstate__(self) -> dict:
        return self.__dict__ | {"_block": None}  # workers regenerate rather than receive arrays
