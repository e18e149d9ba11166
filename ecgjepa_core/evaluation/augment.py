"""Train-time RandAugment of the authors' fine-tuning (docs/protocols.md §4; ST-MEM's transforms).

Each op maps one record (L, T) to a new array; magnitudes follow from the level (10 = max):
span ratio 0.3·level/10, noise amplitude 0.3·level/10, sine period (0.5 / (level/10)) of the
window. All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Magnitude:
    ratio: float      # largest span, as a fraction of T
    amplitude: float  # noise amplitude, signal units
    period: float     # sine period, as a fraction of T

    @classmethod
    def from_level(cls, level: int, max_level: int = 10) -> "Magnitude":
        frac = level / max_level
        return cls(ratio=0.3 * frac, amplitude=0.3 * frac, period=0.5 / frac)


def _span(rng: np.random.Generator, ratio: float, T: int) -> tuple[int, int]:
    """(start, length) of a random span of floor(U(0, ratio)·T) samples inside [0, T)."""
    count = int(rng.uniform(0, ratio) * T)
    return int(rng.integers(0, T - count)), count


def shift(x: np.ndarray, rng: np.random.Generator, m: Magnitude) -> np.ndarray:
    """Shift all leads left or right (50/50) by floor(U(0, ratio)·T) samples, zero-filled."""
    T = x.shape[-1]
    direction = rng.choice([-1, 1])
    s = int(rng.uniform(0, m.ratio) * T)
    out = np.zeros_like(x)
    if direction == 1:
        out[:, s:] = x[:, :T - s]
    else:
        out[:, :T - s] = x[:, s:]
    return out


def cutout(x: np.ndarray, rng: np.random.Generator, m: Magnitude) -> np.ndarray:
    """Zero all leads on one random span."""
    start, count = _span(rng, m.ratio, x.shape[-1])
    out = x.copy()
    out[:, start:start + count] = 0
    return out


def drop(x: np.ndarray, rng: np.random.Generator, m: Magnitude) -> np.ndarray:
    """Zero all leads at k distinct random time indices, k uniform in [0, floor(ratio·T))."""
    T = x.shape[-1]
    k = int(rng.integers(0, max(int(T * m.ratio), 1)))
    out = x.copy()
    out[:, rng.choice(T, k, replace=False)] = 0
    return out


def flip(x: np.ndarray, rng: np.random.Generator, m: Magnitude) -> np.ndarray:
    """Negate the signal."""
    return -x


def erase(x: np.ndarray, rng: np.random.Generator, m: Magnitude) -> np.ndarray:
    """Zero one randomly chosen lead."""
    out = x.copy()
    out[int(rng.integers(x.shape[0]))] = 0
    return out


def sine_wave(T: int, m: Magnitude) -> np.ndarray:
    """(T,) amplitude·sin(2π·(s/T)/period): two periods over the window at level 10."""
    return m.amplitude * np.sin(2 * np.pi * (np.arange(T) / T) / m.period)


def sine(x: np.ndarray, rng: np.random.Generator, m: Magnitude) -> np.ndarray:
    """Add the sine to every lead."""
    return x + sine_wave(x.shape[-1], m)


def partial_sine(x: np.ndarray, rng: np.random.Generator, m: Magnitude) -> np.ndarray:
    """Add the first samples of the sine on one random span."""
    start, count = _span(rng, m.ratio, x.shape[-1])
    out = x.copy()
    out[:, start:start + count] += sine_wave(x.shape[-1], m)[:count]
    return out


def partial_white_noise(x: np.ndarray, rng: np.random.Generator, m: Magnitude) -> np.ndarray:
    """Add amplitude·N(0, 1) noise (independent per lead) on one random span."""
    noise = m.amplitude * rng.standard_normal(x.shape)
    start, count = _span(rng, m.ratio, x.shape[-1])
    out = x.copy()
    out[:, start:start + count] += noise[:, :count]
    return out


Op = Callable[[np.ndarray, np.random.Generator, Magnitude], np.ndarray]
OPS: dict[str, Op] = {"shift": shift, "cutout": cutout, "drop": drop, "flip": flip, "erase": erase,
                      "sine": sine, "partial_sine": partial_sine, "partial_white_noise": partial_white_noise}


def rand_augment(x: np.ndarray, rng: np.random.Generator, ops: Sequence[str] = tuple(OPS), n_ops: int = 2,
                 prob: float = 0.5, level: int = 10) -> np.ndarray:
    """(L, T) -> (L, T): ``n_ops`` distinct ops drawn uniformly (in random order), each applied with ``prob``."""
    m = Magnitude.from_level(level)
    for k in rng.choice(len(ops), n_ops, replace=False):
        if rng.random() < prob:
            x = OPS[ops[k]](x, rng, m)
    return x


def augment_batch(x: np.ndarray, rng: np.random.Generator, **kwargs) -> np.ndarray:
    """(B, L, T) -> (B, L, T) float32, an independent :func:`rand_augment` per record."""
    return np.stack([rand_augment(r, rng, **kwargs) for r in x]).astype(np.float32)
