"""Fine-tuning signal processing (docs/protocols.md §4): zero-phase Butterworth high-pass then low-pass."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

FS = 250.0
HIGHPASS_HZ = 0.67
LOWPASS_HZ = 40.0
ORDER = 5


def bandpass(x: np.ndarray, fs: float = FS, highpass_hz: float = HIGHPASS_HZ, lowpass_hz: float = LOWPASS_HZ,
             order: int = ORDER) -> np.ndarray:
    """(..., T) -> (..., T) float32: order-5 high-pass, then order-5 low-pass, each forward-backward (SOS).

    Two separate filters in this order, as the authors' transforms apply them; filtfilt makes
    the result zero-phase (the effective order doubles).
    """
    high = butter(order, highpass_hz, btype="highpass", fs=fs, output="sos")
    low = butter(order, lowpass_hz, btype="lowpass", fs=fs, output="sos")
    y = sosfiltfilt(high, np.asarray(x, dtype=np.float64), axis=-1)
    return sosfiltfilt(low, y, axis=-1).astype(np.float32)
