"""The segmentation figure: a test ECG with the cardiologists' P/QRS/T segments and predicted ones.

Built like :mod:`ecgjepa_core.report.figures` (a ``Figure`` without pyplot, saved as PNG, returned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ecgjepa_core.data.ludb_segmentation import CLASSES, IGNORE
from ecgjepa_core.evaluation.delineation import wave_runs
from ecgjepa_core.report.figures import PALETTE, _save

WAVE_COLOURS = {1: PALETTE[0], 2: PALETTE[3], 3: PALETTE[2]}  # P blue, QRS vermilion, T green (colour-blind palette)
UNKNOWN_COLOUR = (0.85, 0.85, 0.85)
DEFAULT_LEADS = ("I", "II", "V1", "V5")


def _strip(ax, labels: np.ndarray, y: float, height: float, fs: float) -> None:
    """One row of coloured segments at height ``y``: waves in their colours, unknown truth in grey."""
    for c, a, b in wave_runs(np.where(labels == IGNORE, 0, labels)):
        ax.broken_barh([(a / fs, (b - a + 1) / fs)], (y, height), color=WAVE_COLOURS[c], linewidth=0)
    unknown = np.flatnonzero(np.diff(np.concatenate([[0], (labels == IGNORE).astype(int), [0]])))
    for a, b in zip(unknown[::2], unknown[1::2]):
        ax.broken_barh([(a / fs, (b - a) / fs)], (y, height), color=UNKNOWN_COLOUR, linewidth=0)


def plot_segmentation_overlay(path: Path | str, ecg: np.ndarray, truth: np.ndarray,
                              pred: np.ndarray | Mapping[str, np.ndarray], leads: Sequence[str],
                              fs: float = 250.0, show: Sequence[str] | None = None, title: str = "") -> Figure:
    """ECG (L, T) with strips below each shown lead: the cardiologists' labels (L, T) on top, then each
    prediction (L, T) (one array, or a mapping method → array); one colour per wave, grey where the
    truth is unknown (outside the annotated span). ``show``: lead names to draw (default I, II, V1, V5)."""
    preds = {"predicted": pred} if isinstance(pred, np.ndarray) else dict(pred)
    for name, p in {"truth": truth, **preds}.items():
        if np.shape(p) != np.shape(ecg):
            raise ValueError(f"{name} has shape {np.shape(p)}, the ECG {np.shape(ecg)}")
    show = [lead for lead in (show or DEFAULT_LEADS) if lead in leads] or list(leads[:4])
    rows = [("cardiologists", truth)] + list(preds.items())
    fig = Figure(figsize=(14, 1.2 + (1.4 + 0.25 * len(rows)) * len(show)))
    axes = fig.subplots(len(show), 1, sharex=True, squeeze=False)[:, 0]
    t = np.arange(ecg.shape[1]) / fs
    for ax, lead in zip(axes, show):
        i = list(leads).index(lead)
        lo, hi = float(ecg[i].min()), float(ecg[i].max())
        span = hi - lo or 1.0
        strip = 0.18 * span
        ax.plot(t, ecg[i], color="black", linewidth=0.7)
        for k, (name, labels) in enumerate(rows):
            y = lo - (k + 1) * strip * 1.15
            _strip(ax, np.asarray(labels[i]), y, strip, fs)
            ax.text(t[-1] + 0.05, y + strip / 2, name, fontsize=7, va="center")
        ax.set_ylim(lo - (len(rows) + 0.3) * strip * 1.15, hi + 0.05 * span)
        ax.set_yticks([])
        ax.set_ylabel(lead, rotation=0, labelpad=15)
    axes[-1].set_xlabel("time (s)")
    handles = [Patch(color=WAVE_COLOURS[c], label=CLASSES[c]) for c in (1, 2, 3)]
    handles.append(Patch(color=UNKNOWN_COLOUR, label="not annotated"))
    axes[0].legend(handles=handles, ncol=4, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.02), frameon=False)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
