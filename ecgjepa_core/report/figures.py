"""Figures for the study: masking, CroPA, pre-training curves, ROC curves, embeddings, ours vs paper.

Each ``plot_*`` function builds one figure, saves it as PNG to ``path`` (folder created, dpi 120,
tight bounding box) and returns the :class:`~matplotlib.figure.Figure`. Figures are built with
``Figure()`` rather than ``pyplot``: nothing is registered with pyplot (no global state, nothing to
close) and saving always goes through Agg, so no display is needed. The price: such a figure has no
inline display in a notebook (its value prints as ``<Figure size …>``); notebooks show the saved PNGs
with :func:`inline`.

The functions only draw; anything a table should hold is computed elsewhere. The one exception is
:func:`mask_frequencies`, the per-patch masking rate the masking figure shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ecgjepa_core.models.config import MULTIBLOCK_MASK, RANDOM_MASK, MaskConfig
from ecgjepa_core.models.masking import sample_time_mask

LEAD_NAMES_8 = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
PALETTE = sns.color_palette("colorblind")
LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "x")
GREY = (0.6, 0.6, 0.6)
DPI = 120


def _save(fig: Figure, path: Path | str) -> Figure:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return fig


def inline(paths: Sequence[Path | str]) -> list:
    """Saved figures as IPython images, which a notebook shows inline with ``display(*inline(paths))`` (a
    ``Figure`` built without pyplot has no inline display of its own)."""
    from IPython.display import Image

    return [Image(filename=str(p)) for p in paths]


def _mask_label(cfg: MaskConfig) -> str:
    lo, hi = cfg.scale
    if cfg.kind == "random":
        return f"random ({lo:g}, {hi:g})"
    return f"multi-block ({lo:g}, {hi:g}) × {cfg.n_blocks}"


# --------------------------------------------------------------------------------------------- masking

def mask_frequencies(cfg: MaskConfig, n_draws: int = 5000, seed: int = 0, n_patches: int = 50) -> np.ndarray:
    """(n_patches,) fraction of ``n_draws`` masks (seeded generator) in which each patch is masked."""
    gen = torch.Generator().manual_seed(seed)
    masks = torch.stack([sample_time_mask(cfg, n_patches, gen) for _ in range(n_draws)])
    return masks.float().mean(0).numpy()


def plot_masking_strategies(path: Path | str, n_examples: int = 6, seed: int = 0, n_draws: int = 5000,
                            n_patches: int = 50,
                            configs: Sequence[MaskConfig] = (RANDOM_MASK, MULTIBLOCK_MASK)) -> Figure:
    """Example time masks for each strategy (one row per draw) and the per-patch masking frequency."""
    fig = Figure(figsize=(10, 2.0 * len(configs) + 3.2))
    axes = fig.subplots(len(configs) + 1, 1, gridspec_kw={"height_ratios": [1] * len(configs) + [1.6]})
    cmap = ListedColormap([(0.94, 0.94, 0.94), PALETTE[0]])
    for i, (ax, cfg) in enumerate(zip(axes, configs)):
        gen = torch.Generator().manual_seed(seed)
        masks = torch.stack([sample_time_mask(cfg, n_patches, gen) for _ in range(n_examples)]).numpy()
        ax.imshow(masks, cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest",
                  extent=(-0.5, n_patches - 0.5, n_examples - 0.5, -0.5))
        ax.set_yticks(range(n_examples), [f"draw {k + 1}: {int(m.sum())} masked" for k, m in enumerate(masks)],
                      fontsize=8)
        ax.set_title(f"{_mask_label(cfg)}: {n_examples} example masks (seed {seed}), shared by all 8 leads")
        ax.set_xlabel("time patch index")
        ax.set_xticks(range(0, n_patches, 5))
        if i == 0:
            ax.legend(handles=[Patch(color=PALETTE[0], label="masked (target)"),
                               Patch(facecolor=(0.94, 0.94, 0.94), edgecolor=GREY, label="visible (context)")],
                      loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax = axes[-1]
    for k, cfg in enumerate(configs):
        freq = mask_frequencies(cfg, n_draws, seed, n_patches)
        ax.plot(np.arange(n_patches), freq, marker="o", ms=3, color=PALETTE[k + 1],
                label=f"{_mask_label(cfg)} (mean {freq.mean():.3f})")
        if freq[-1] == 0:
            ax.annotate(f"patch {n_patches - 1} never masked", (n_patches - 1, 0), xytext=(-150, 25),
                        textcoords="offset points", fontsize=8, arrowprops={"arrowstyle": "->", "color": GREY})
    ax.set(xlabel="time patch index", ylabel="fraction of masks", ylim=(-0.03, 1.0), xlim=(-0.5, n_patches - 0.5),
           title=f"Per-patch masking frequency over {n_draws} draws per strategy")
    ax.set_xticks(range(0, n_patches, 5))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.suptitle("ECG-JEPA time masking strategies", fontweight="bold")
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------------------------- CroPA

def plot_cropa_mask(path: Path | str, n_leads: int = 8, n_patches: int = 50, query_lead: str | int = "V1",
                    query_patch: int = 20, lead_names: Sequence[str] | None = None) -> Figure:
    """The (L·N × L·N) CroPA mask, and the tokens one query token attends to on the L × N grid."""
    from ecgjepa_core.models.attention import cropa_mask

    names = list(lead_names or (LEAD_NAMES_8 if n_leads == 8 else [f"lead {i}" for i in range(n_leads)]))
    lead = names.index(query_lead) if isinstance(query_lead, str) else int(query_lead)
    mask = cropa_mask(n_leads, n_patches).numpy()
    q = lead * n_patches + query_patch

    fig = Figure(figsize=(13, 5.6))
    ax_m, ax_g = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.5]})
    ax_m.imshow(mask, cmap=ListedColormap([(0.97, 0.97, 0.97), PALETTE[0]]), vmin=0, vmax=1,
                interpolation="nearest")
    centres = [l * n_patches + (n_patches - 1) / 2 for l in range(n_leads)]
    for axis in ("x", "y"):
        getattr(ax_m, f"set_{axis}ticks")(centres, names, fontsize=8)
    for b in range(1, n_leads):
        ax_m.axhline(b * n_patches - 0.5, color=GREY, lw=0.5)
        ax_m.axvline(b * n_patches - 0.5, color=GREY, lw=0.5)
    ax_m.axhline(q, color=PALETTE[1], lw=1.2)
    ax_m.set(xlabel="key token (lead-major: lead, then time patch)", ylabel="query token",
             title=f"CroPA mask, {n_leads * n_patches} × {n_leads * n_patches} ({int(mask[q].sum())} keys per query)")
    ax_m.legend(handles=[Patch(color=PALETTE[0], label="may attend"),
                         Line2D([], [], color=PALETTE[1], label=f"query row {names[lead]}, patch {query_patch}")],
                loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8)

    grid = mask[q].reshape(n_leads, n_patches).astype(int)
    grid[lead, query_patch] = 2
    ax_g.imshow(grid, cmap=ListedColormap([(0.94, 0.94, 0.94), PALETTE[0], PALETTE[1]]), vmin=0, vmax=2,
                aspect="auto", interpolation="nearest")
    ax_g.set_yticks(range(n_leads), names)
    ax_g.set_xticks(range(0, n_patches, 5))
    ax_g.set_xticks(np.arange(-0.5, n_patches), minor=True)
    ax_g.set_yticks(np.arange(-0.5, n_leads), minor=True)
    ax_g.grid(which="minor", color="white", lw=0.6)
    ax_g.tick_params(which="minor", length=0)
    ax_g.set(xlabel="time patch index", ylabel="lead",
             title=f"Keys of query token ({names[lead]}, patch {query_patch}): same lead or same time patch")
    ax_g.legend(handles=[Patch(color=PALETTE[1], label="query token"),
                         Patch(color=PALETTE[0], label="attended"),
                         Patch(facecolor=(0.94, 0.94, 0.94), edgecolor=GREY, label="blocked (−∞ logit)")],
                loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8)
    fig.suptitle("Cross-Pattern Attention (CroPA)", fontweight="bold")
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------------------------- pre-training

def _read_log(log: Path | str | pd.DataFrame) -> pd.DataFrame:
    if isinstance(log, pd.DataFrame):
        return log
    log = Path(log)
    return pd.read_csv(log / "log.csv" if log.is_dir() else log)


def plot_pretraining_curves(path: Path | str, logs: Mapping[str, Path | str | pd.DataFrame], smooth: int = 1,
                            log_loss: bool = False, title: str = "Pre-training curves") -> Figure:
    """Loss vs step (large panel), learning rate and EMA momentum (small panels) for several runs.

    ``logs`` maps a run label to a run folder, its ``log.csv`` or the loaded DataFrame. With
    ``smooth`` > 1 the raw loss is drawn faintly and its rolling mean over ``smooth`` steps on top.
    """
    fig = Figure(figsize=(10, 7))
    ax_loss, ax_lr, ax_mom = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1, 1]})
    for k, (label, log) in enumerate(logs.items()):
        df = _read_log(log)
        # Runs with the same schedule draw the same lr and momentum curves: each run its own line style and
        # markers, so that no run hides under another.
        style = {"color": PALETTE[k % len(PALETTE)], "ls": LINE_STYLES[k % len(LINE_STYLES)],
                 "marker": MARKERS[k % len(MARKERS)], "ms": 6, "mfc": "none", "markevery": max(1, len(df) // 12)}
        if smooth > 1:
            ax_loss.plot(df["step"], df["loss"], color=style["color"], alpha=0.25, lw=0.8)
            ax_loss.plot(df["step"], df["loss"].rolling(smooth, min_periods=1).mean(), label=label, **style)
        else:
            ax_loss.plot(df["step"], df["loss"], label=label, **style)
        ax_lr.plot(df["step"], df["lr"], **style)
        ax_mom.plot(df["step"], df["momentum"], **style)
    ax_loss.set(ylabel="loss" + (f" (rolling mean, {smooth} steps)" if smooth > 1 else ""), title=title)
    if log_loss:
        ax_loss.set_yscale("log")
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_title("runs of the same schedule draw the same learning rate and momentum", fontsize=8)
    ax_mom.set(ylabel="EMA momentum", xlabel="iteration (step)")
    for ax in (ax_loss, ax_lr, ax_mom):
        ax.grid(alpha=0.3)
    if logs:
        ax_loss.legend(title="run", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------------------------- ROC

def plot_roc_curves(path: Path | str, y_true: np.ndarray, scores: np.ndarray, class_names: Sequence[str],
                    title: str = "ROC curves") -> Figure:
    """Per-class ROC curves with AUC in the legend.

    ``y_true`` (N, C) multi-hot (one curve per column) or (N,) class indices (one-vs-rest);
    ``scores`` (N, C). Classes whose labels take a single value are listed as skipped.
    """
    from sklearn.metrics import auc, roc_curve

    y_true, scores = np.asarray(y_true), np.asarray(scores)
    if y_true.ndim == 1:
        y_true = (y_true[:, None] == np.arange(scores.shape[1])[None, :]).astype(int)
    fig = Figure(figsize=(6.5, 6))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], ls="--", color=GREY, lw=1, label="chance (AUC 0.5)")
    skipped = []
    for c, name in enumerate(class_names):
        y = y_true[:, c]
        if np.unique(y).size < 2:
            skipped.append(name)
            ax.plot([], [], ls="none", label=f"{name}: skipped (only {'positives' if y.all() else 'negatives'})")
            continue
        fpr, tpr, _ = roc_curve(y, scores[:, c])
        ax.plot(fpr, tpr, color=PALETTE[c % len(PALETTE)], lw=1.6, label=f"{name} (AUC {auc(fpr, tpr):.3f})")
    if skipped:
        title += f"\n({len(skipped)} class{'es' if len(skipped) > 1 else ''} skipped: single label value)"
    ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(-0.01, 1.01), ylim=(-0.01, 1.01),
           title=title, aspect="equal")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8)  # below: never over a curve
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------------------------- embeddings

def _single_labels(labels: np.ndarray, class_names: Sequence[str] | None) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return labels.astype(str)
    names = np.asarray(list(class_names), dtype=object)
    n_pos = labels.astype(bool).sum(1)
    out = np.where(n_pos > 1, "multiple", "none").astype(object)
    single = n_pos == 1
    out[single] = names[labels[single].astype(bool).argmax(1)]
    return out.astype(str)


def plot_embedding(path: Path | str, features: np.ndarray, labels: np.ndarray,
                   class_names: Sequence[str] | None = None, title: str = "Embedding", method: str = "pca",
                   seed: int = 0) -> Figure:
    """2-D map (PCA or t-SNE) of ``features`` (N, D) coloured by label.

    ``labels`` is (N,) strings, or (N, C) multi-hot with ``class_names``: a record with one label is
    coloured by it, with several as "multiple", with none as "none". t-SNE perplexity is clipped to
    (N − 1) / 3 for small N; below 5 samples PCA is used instead and the title says so. t-SNE runs
    single-threaded (avoids OpenMP oversubscription stalls; ~25 s for 3000 points).
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    x = np.asarray(features, dtype=np.float64)
    lab = _single_labels(labels, class_names)
    n = len(x)
    if method == "tsne" and n < 5:
        method, title = "pca", f"{title}\n(t-SNE needs ≥ 5 samples; PCA shown for N = {n})"
    if method == "tsne":
        perplexity = float(min(30.0, max(1.0, (n - 1) / 3)))
        with threadpool_limits(1):   # OpenMP/BLAS threads spin for seconds–minutes on a busy machine
            xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
        axis_names, subtitle = ("t-SNE 1", "t-SNE 2"), f"t-SNE, perplexity {perplexity:.3g}"
    elif method == "pca":
        k = min(2, n, x.shape[1])
        pca = PCA(k, random_state=seed).fit(x)
        xy = np.zeros((n, 2))
        xy[:, :k] = pca.transform(x)
        ev = list(pca.explained_variance_ratio_) + [0.0] * (2 - k)
        axis_names = tuple(f"PC{i + 1} ({100 * e:.1f} % var.)" for i, e in enumerate(ev))
        subtitle = "PCA"
    else:
        raise ValueError(f"method must be 'pca' or 'tsne', not {method!r}")

    order = [c for c in (class_names or []) if c in set(lab)]
    order += sorted(set(lab) - set(order) - {"multiple", "none"}) + [c for c in ("multiple", "none") if c in lab]
    known = list(class_names or []) + sorted(set(lab) - set(class_names or []))   # stable colour per class
    style = {"multiple": {"color": GREY, "marker": "s"}, "none": {"color": "black", "marker": "x"}}
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    for name in order:
        sel = lab == name
        kw = style.get(name, {"color": PALETTE[known.index(name) % len(PALETTE)], "marker": "o"})
        ax.scatter(xy[sel, 0], xy[sel, 1], s=12 if n > 500 else 25, alpha=0.7, lw=1 if name == "none" else 0,
                   label=f"{name} (n={int(sel.sum())})", **kw)
    ax.set(xlabel=axis_names[0], ylabel=axis_names[1], title=f"{title} [{subtitle}, N = {n}]")
    ax.grid(alpha=0.3)
    ax.legend(title="label", fontsize=8, markerscale=1.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------------------------- ours vs paper

# The row fields that can tell two rows of a table apart, in the order a label names them.
ROW_FIELDS = ("method", "dataset", "task", "split", "protocol", "ablation")


def row_labels(table: pd.DataFrame) -> list[str]:
    """One label per row: its method, then what distinguishes it, the other :data:`ROW_FIELDS` whose values
    differ across ``table`` (a field shared by every row says nothing), then the encoder where those still leave
    two rows alike."""
    def text(row: pd.Series, fields) -> str:
        parts = (row.get(c) for c in fields)
        return " · ".join(str(p).strip() for p in parts if pd.notna(p) and str(p).strip())
    varying = [c for c in ROW_FIELDS[1:] if c in table.columns and table[c].fillna("").astype(str).nunique() > 1]
    labels = [text(r, ROW_FIELDS[:1] + tuple(varying)) for _, r in table.iterrows()]
    if len(set(labels)) < len(labels) and "encoder" in table.columns:
        labels = [f"{label} · {str(r['encoder']).split(' (')[0]}" for label, (_, r) in zip(labels, table.iterrows())]
    return labels


def _finite(x) -> bool:
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def _unit(metric: str) -> str:
    """"MAE (bpm)" -> "bpm", "QRS onset error (ms)" -> "ms"; AUC, F1, IoU and rates share the 0-1 scale."""
    for unit in ("bpm", "ms"):
        if metric.endswith(f"({unit})"):
            return unit
    return "score (0-1)"


ROW_HEIGHT = 0.3  # inches per row of a panel: one pair of bars and its label
MIN_HEIGHT = 3.5  # inches: a table of one or two rows is not drawn as a strip


def plot_ours_vs_paper(path: Path | str, table: pd.DataFrame, title: str = "Ours vs paper",
                       max_rows: int = 30) -> Figure:
    """Ours beside the paper's value, one panel per metric, stacked.

    ``table``: result rows (``report.results.COLUMNS``). Each row is a pair of horizontal bars: ours, with
    whiskers for its 95 % CI where the row has one, and the paper's value, with whiskers for its sd where the
    paper gives one. Each bar carries its value at its end, so that a zero reads as 0.000 rather than as no bar;
    each row is labelled by what distinguishes it (:func:`row_labels`); the legend sits below the panels, outside
    the data, and names the whiskers only where some are drawn. At most ``max_rows`` rows per panel (its title
    says how many are left out; the CSV holds every row).
    """
    table = table[[_finite(v) for v in table["ours"]]].reset_index(drop=True)
    metrics = list(dict.fromkeys(str(m) for m in table["metric"]))
    panels = [(m, table[table["metric"].astype(str) == m].reset_index(drop=True)) for m in metrics]
    heights = [0.9 + ROW_HEIGHT * min(len(rows), max_rows) for _, rows in panels] or [2.0]
    fig = Figure(figsize=(9.5, max(sum(heights) + 1.0, MIN_HEIGHT)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(heights), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0])
    h = 0.38
    drawn = {"ci": False, "paper": False, "paper_sd": False}
    for ax, (metric, rows) in zip(axes, panels):
        left_out = max(len(rows) - max_rows, 0)
        rows = rows.head(max_rows)
        unit = _unit(metric)
        digits = 1 if unit in ("bpm", "ms") else 3
        values = []
        for i, row in rows.iterrows():
            ours = float(row["ours"])
            err = None
            if _finite(row.get("ci_low")) and _finite(row.get("ci_high")):
                err = [[ours - float(row["ci_low"])], [float(row["ci_high"]) - ours]]
                drawn["ci"] = True
            ax.barh(i - h / 2, ours, h, xerr=err, color=PALETTE[0], capsize=2, error_kw={"lw": 1})
            values.append((i - h / 2, ours, float(row["ci_high"]) if err else ours))
            if _finite(row.get("paper")):
                paper = float(row["paper"])
                perr = float(row["paper_sd"]) if _finite(row.get("paper_sd")) else None
                drawn["paper"] = True
                drawn["paper_sd"] |= perr is not None
                ax.barh(i + h / 2, paper, h, xerr=perr, color=PALETTE[1], capsize=2, error_kw={"lw": 1, "ecolor": GREY})
                values.append((i + h / 2, paper, paper + (perr or 0.0)))
        reach = [max(v, end) for _, v, end in values] + [0.0]
        low = min([v for _, v, _ in values] + [0.0])
        high = 1.0 if unit == "score (0-1)" and max(reach) <= 1.0 else max(reach)
        span = (high - low) or 1.0
        for y, value, end in values:  # the value at the bar's end (past its whisker): zero bars stay visible
            ax.text(max(value, end) + 0.01 * span if value >= 0 else value - 0.01 * span, y, f"{value:.{digits}f}",
                    va="center", ha="left" if value >= 0 else "right", fontsize=6.5)
        ax.set_xlim(low - (0.12 * span if low < 0 else 0.0), high + 0.12 * span)
        ax.axvline(0, color=GREY, lw=0.8)
        ax.set_yticks(range(len(rows)), row_labels(rows), fontsize=7)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlabel(unit, fontsize=8)
        ax.set_title(metric + (f" (first {max_rows} of {max_rows + left_out} rows; all in the CSV)" if left_out
                               else ""), fontsize=9, loc="left")
        ax.grid(axis="x", alpha=0.3)
    handles = [Patch(color=PALETTE[0], label="ours")]
    if drawn["ci"]:
        handles.append(Line2D([], [], color="black", lw=1, marker="|", label="95 % CI of ours"))
    if drawn["paper"]:
        handles.append(Patch(color=PALETTE[1], label="paper"))
    if drawn["paper_sd"]:
        handles.append(Line2D([], [], color=GREY, lw=1, marker="|", label="± sd the paper reports"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_ecg(path: Path | str, signal: np.ndarray, lead_names: Sequence[str], fs: float = 250.0,
             patch_size: int = 50, title: str = "ECG") -> Figure:
    """One record (L, T), one row per lead, with the 0.2 s patch boundaries the model tokenises."""
    n_leads, n_samples = signal.shape
    t = np.arange(n_samples) / fs
    fig = Figure(figsize=(11, 1.0 + 0.9 * n_leads))
    axes = fig.subplots(n_leads, 1, sharex=True, squeeze=False)[:, 0]
    for ax, lead, name in zip(axes, signal, lead_names):
        for edge in np.arange(0, n_samples + 1, patch_size) / fs:
            ax.axvline(edge, color="0.85", lw=0.5, zorder=0)
        ax.plot(t, lead, lw=0.7, color=sns.color_palette("colorblind")[0])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.set_yticks([])
    axes[-1].set_xlabel(f"time (s); grey lines: patch boundaries every {patch_size} samples")
    fig.suptitle(title)
    return _save(fig, path)
