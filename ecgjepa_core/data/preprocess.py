"""Record → fixed-shape array: lead selection, crop, invalid-sample rules, filtering, resampling.

Pure functions on numpy arrays plus one frozen :class:`Recipe` whose :meth:`Recipe.apply` is
the only thing the cache calls. Order of operations in ``apply`` (docs/data.md §5):

1. select (or derive) the leads by name → (L, n);
2. crop to the first ``crop_seconds`` → (L, round(crop_seconds·fs));
3. invalid-sample rule (docs/data.md §2) on the 8 JEPA leads (physical units);
4. optional zero-phase Butterworth band-pass at the record's own ``fs``;
5. optional per-lead z-score (population sd);
6. FFT resampling to ``n_samples`` (``scipy.signal.resample`` semantics);
7. cast to the output dtype (float16).

The ``ptbxl_subset`` recipe (``SUBSET_RECIPE``) is reproduced on the five records shared with
``ptbxl/`` to float16 rounding when the band-pass runs ``filtfilt`` (b, a form, default odd padding)
on the float32 signal the reader returns, the z-score runs in float64 and is stored as float32, and
the resampling runs on that float32 array: bit-exactly on one machine, with 3–5 % of the values one
or two float16 steps off on another CPU (float32 rounding differs between CPUs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.signal

from ecgjepa_core.ranges import check_fields, count, one_of, optional, pair, positive
from ecgjepa_core.data.records import JEPA_8_LEADS, STANDARD_12_LEADS, Record, RecordError

# Bump when a function below changes its output for the same Recipe: invalidates every cache.
PREPROCESS_VERSION = 1

# A lead whose sd (signal units) is at most this is "flat": z-scoring it would divide by ~0.
# 1e-6 mV is below the quantisation step of every dataset used (≥ 0.5 µV per digital unit).
FLAT_SD = 1e-6

LIMB_FROM_I_II: dict[str, tuple[float, float]] = {
    # lead: (weight of I, weight of II); Einthoven + Goldberger, docs/data.md §1.
    "III": (-1.0, 1.0),
    "aVR": (-0.5, -0.5),
    "aVL": (1.0, -0.5),
    "aVF": (-0.5, 1.0),
}


def select_leads(signal: np.ndarray, lead_names: tuple[str, ...] | list[str],
                 wanted: tuple[str, ...], source: str = "<record>") -> np.ndarray:
    """Pick ``wanted`` leads by name (case-insensitive) from ``signal`` (L_in, T) → (len(wanted), T).

    A missing III, aVR, aVL or aVF is derived from I and II (docs/data.md §1); a recorded one is used as
    recorded. Any other missing lead raises ``RecordError(reason="missing_leads")``.
    """
    position = {name.lower(): i for i, name in enumerate(lead_names)}
    rows = []
    for name in wanted:
        i = position.get(name.lower())
        if i is not None:
            rows.append(signal[i])
        elif name in LIMB_FROM_I_II and "i" in position and "ii" in position:
            w1, w2 = LIMB_FROM_I_II[name]
            rows.append(w1 * signal[position["i"]] + w2 * signal[position["ii"]])
        else:
            raise RecordError(source, "missing_leads",
                              f"lead {name} missing and not derivable (has {list(lead_names)})")
    return np.stack(rows).astype(signal.dtype, copy=False)


def derive_limb_leads(i_ii: np.ndarray) -> np.ndarray:
    """Leads I and II (2, T) → the 6 limb leads I, II, III, aVR, aVL, aVF (6, T)."""
    return select_leads(i_ii, ("I", "II"), STANDARD_12_LEADS[:6])


def crop_first_seconds(signal: np.ndarray, fs: float, seconds: float,
                       source: str = "<record>") -> np.ndarray:
    """(L, T) → (L, round(seconds·fs)): the first ``seconds``; shorter records raise ``too_short``."""
    n = int(round(seconds * fs))
    if signal.shape[-1] < n:
        raise RecordError(source, "too_short",
                          f"{signal.shape[-1]} samples at {fs:g} Hz, need {n} ({seconds:g} s)")
    return signal[..., :n]


def invalid_reason(jepa8: np.ndarray) -> str | None:
    """The invalid-sample rule (docs/data.md §2) on the 8 JEPA leads (8, T) in physical units: ``"nan"``, ``"zero_start"`` or None.

    ``zero_start``: the sum of |x| over the 8 leads × first 15 samples is exactly 0.
    """
    if np.isnan(jepa8).any():
        return "nan"
    if np.abs(jepa8[:, :15]).sum() == 0:
        return "zero_start"
    return None


def bandpass_zero_phase(signal: np.ndarray, fs: float, low: float, high: float,
                        order: int = 4) -> np.ndarray:
    """Forward–backward Butterworth band-pass along time: (L, T) → (L, T) float64.

    ``filtfilt`` with (b, a) coefficients and its default odd padding, run on the input as given
    (float32 from the reader): this is what reproduces ``ptbxl_subset`` (see module docstring).
    """
    b, a = scipy.signal.butter(order, [low, high], btype="band", fs=fs)
    return scipy.signal.filtfilt(b, a, signal, axis=-1)


def zscore_per_lead(signal: np.ndarray) -> np.ndarray:
    """Per-lead (x − mean) / population sd over time, computed in float64: (L, T) → (L, T) float32.

    A flat lead (sd ≤ ``FLAT_SD``) becomes all zeros instead of being divided by ~0; the cache
    counts all-zero leads per record (``info.json``), so flat leads are visible, not hidden.
    """
    x = np.asarray(signal, dtype=np.float64)
    centred = x - x.mean(axis=-1, keepdims=True)
    sd = x.std(axis=-1, keepdims=True)
    flat = sd[:, 0] <= FLAT_SD
    out = centred / np.where(flat[:, None], 1.0, sd)
    out[flat] = 0
    return out.astype(np.float32)


def fft_resample(signal: np.ndarray, n_samples: int) -> np.ndarray:
    """``scipy.signal.resample`` along time, in the input's precision: (L, T) → (L, n_samples).

    Equal lengths return the input unchanged (the FFT round trip is the identity up to rounding).
    """
    if signal.shape[-1] == n_samples:
        return signal
    return scipy.signal.resample(signal, n_samples, axis=-1)


@dataclass(frozen=True)
class Recipe:
    """How a :class:`Record` becomes one cache row of shape (leads, n_samples).

    ``crop_seconds=None`` keeps the whole record (the faithful CODE-15 recipe resamples all
    4096 samples). ``bandpass=None`` disables filtering; otherwise (low_hz, high_hz).
    """

    leads: int = field(default=8, metadata=one_of(8, 12))
    n_samples: int = field(default=2500, metadata=count(1, 1_000_000))
    crop_seconds: float | None = field(default=10.0, metadata=optional(positive(86_400.0)))
    bandpass: tuple[float, float] | None = field(default=None, metadata=optional(pair(positive(1e4), positive(1e4))))
    bandpass_order: int = field(default=4, metadata=count(1, 16))
    zscore: bool = False
    invalid_rule: bool = True
    dtype: str = field(default="float16", metadata=one_of("float16", "float32"))

    def __post_init__(self):
        check_fields(self)
        if self.bandpass is not None:
            object.__setattr__(self, "bandpass", tuple(float(f) for f in self.bandpass))
            if self.bandpass[0] >= self.bandpass[1]:
                raise ValueError(f"bandpass={self.bandpass}: the low edge must be below the high edge")

    @property
    def lead_names(self) -> tuple[str, ...]:
        return JEPA_8_LEADS if self.leads == 8 else STANDARD_12_LEADS

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over the fields and ``PREPROCESS_VERSION``; stable across runs."""
        text = json.dumps({"recipe": asdict(self), "version": PREPROCESS_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def apply(self, record: Record) -> np.ndarray:
        """Record → (leads, n_samples) array of ``dtype``; raises ``RecordError`` with a reason."""
        src = str(record.source)
        x = select_leads(np.asarray(record.signal, dtype=np.float32), record.lead_names,
                         self.lead_names, src)
        if self.crop_seconds is not None:
            x = crop_first_seconds(x, record.fs, self.crop_seconds, src)
        if self.invalid_rule:
            reason = invalid_reason(x[[self.lead_names.index(n) for n in JEPA_8_LEADS]])
            if reason is not None:
                raise RecordError(src, reason, f"invalid sample rule: {reason}")
        if self.bandpass is not None:
            x = bandpass_zero_phase(x, record.fs, *self.bandpass, order=self.bandpass_order)
        if self.zscore:
            x = zscore_per_lead(x)
        out = fft_resample(x, self.n_samples).astype(self.dtype)
        if not np.isfinite(out).all():
            raise RecordError(src, "non_finite", f"non-finite values after preprocessing ({self.dtype})")
        return out


# The paper's recipe (docs/data.md §2–§4): 8 leads, first 10 s, invalid rules, FFT → 2500, no filtering.
PAPER_RECIPE = Recipe()
# The recipe of ``ptbxl_subset`` (docs/data.md §6); PTB-XL has no quality filter (docs/data.md §3).
SUBSET_RECIPE = Recipe(leads=12, bandpass=(0.5, 40.0), zscore=True, invalid_rule=False)
