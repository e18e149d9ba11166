"""The segmentation figures: a test ECG with the cardiologists' P/QRS/T segments and predicted ones, and
the learning curves of the trained segmenters.

Built like :mod:`ecgjepa_core.report.figures` (a ``Figure`` without pyplot, saved as PNG, returned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
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


CURVE_PANELS = (("train_loss", "training loss (epoch mean)"), ("val_miou_waves", "validation mIoU (P, QRS, T)"),
                ("val_iou_P", "validation IoU of P"))
PROTOCOL_STYLES = {"frozen": ":", "fine-tuned": "-", "from scratch": "-"}
CURVE_COLOURS = tuple(PALETTE[k] for k in (0, 1, 2, 4, 5, 6, 7, 8, 9))  # no vermilion: too close to orange


def plot_segmentation_curves(path: Path | str, curves: pd.DataFrame, title: str = "") -> Figure:
    """One panel per measure of :data:`CURVE_PANELS` against the epoch, one line per run (colour: method,
    line style: protocol), a dot on the kept epoch (best validation mIoU). ``curves``: rows of
    :meth:`~ecgjepa_core.evaluation.segmentation.SegmentationResults.curves`."""
    fig = Figure(figsize=(15, 4.2))
    axes = fig.subplots(1, len(CURVE_PANELS))
    colours = {m: CURVE_COLOURS[k % len(CURVE_COLOURS)] for k, m in enumerate(dict.fromkeys(curves["method"]))}
    for (method, protocol, _), run in curves.groupby(["method", "protocol", "input"], sort=False):
        run = run.sort_values("epoch")
        kept = run.loc[run["val_miou_waves"].idxmax()]
        for ax, (column, _) in zip(axes, CURVE_PANELS):
            ax.plot(run["epoch"], run[column], PROTOCOL_STYLES.get(protocol, "--"), color=colours[method],
                    linewidth=1.3, label=f"{method} ({protocol})")
            ax.plot([kept["epoch"]], [kept[column]], "o", color=colours[method], markersize=4)
    for ax, (column, label) in zip(axes, CURVE_PANELS):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if column != "train_loss":
            ax.set_ylim(0, 1)
    axes[-1].legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    return _save(fig, path)
