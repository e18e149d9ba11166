"""Learning curves of pretraining runs: probe AUC, collapse measures and loss per saved epoch.

Built like :mod:`ecgjepa_core.report.figures` (a bare ``Figure``, nothing registered with pyplot,
its palette), drawn by Agg and written atomically so a reader never sees half a PNG.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ecgjepa_core.report.figures import LINE_STYLES, MARKERS, PALETTE

DPI = 110
PANELS = (("probe_val_auc", "validation probe AUC (macro)"), ("effective_rank", "effective rank (centred)"),
          ("mean_sd", "mean per-dimension sd"), ("loss", "training loss (epoch mean)"))


def plot_learning_curves(curves: pd.DataFrame, path: Path) -> Path:
    """One panel per measure of :data:`PANELS`, one line per ``run`` (x = epoch); saves the PNG at ``path``.

    ``curves``: rows of :func:`ecgjepa_core.study.learning_curves.curve_of_run` with a ``run`` column added.
    """
    path = Path(path)
    fig = Figure(figsize=(10, 7))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for k, (run, df) in enumerate(curves.groupby("run", sort=False)):
        df = df.sort_values("epoch")
        style = {"color": PALETTE[k % len(PALETTE)], "ls": LINE_STYLES[k % len(LINE_STYLES)],
                 "marker": MARKERS[k % len(MARKERS)], "ms": 6, "mfc": "none"}  # close runs stay apart
        for ax, (column, _) in zip(axes, PANELS):
            ax.plot(df["epoch"], df[column], label=str(run), **style)
    for ax, (_, label) in zip(axes, PANELS):
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    for ax in axes[2:]:
        ax.set_xlabel("epoch")
    fig.tight_layout()
    fig.legend(*axes[0].get_legend_handles_labels(), title="run", fontsize=8, loc="upper left",
               bbox_to_anchor=(1.0, 0.95))  # outside the panels
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=DPI, format="png", bbox_inches="tight")
    os.replace(tmp, path)
    return path
