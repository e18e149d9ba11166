"""Learning curves of a pretraining run: every saved epoch's encoder, probed and checked for collapse.

For each ``encoder_epochNNN.pt`` of a run folder (docs of :mod:`ecgjepa_core.training.pretrain`):
the mean training loss of that epoch (from ``log.csv``), the validation-fold linear-probe macro AUC
and the two collapse measures of :mod:`ecgjepa_core.evaluation.collapse` (mean per-dimension sd,
effective rank) of the training rows' features. :func:`collapse_verdict` and
:func:`extrapolation_text` turn such a curve into one sentence each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.checkpoint import load_checkpoint, load_weimann_encoder
from ecgjepa_core.evaluation.collapse import representation_diagnostics
from ecgjepa_core.evaluation.features import extract_features
from ecgjepa_core.files import atomic_write_text
from ecgjepa_core.report import provenance
from ecgjepa_core.study.profiles import paper
from ecgjepa_core.training.pretrain import LOG, encoder_file

COLUMNS = ("epoch", "loss", "probe_val_auc", "mean_sd", "effective_rank", "effective_rank_uncentred", "dim")
_ENCODER_NAME = re.compile(r"encoder_epoch(\d+)\.pt$")

# Complete collapse: every record maps to (nearly) one vector. The sd is judged relative to the
# first saved epoch because its scale depends on the architecture (LayerNorm output, width).
COLLAPSED_SD_FRACTION = 1e-3
# ... or the records differ along fewer than two directions (effective rank 1 = one direction).
COLLAPSED_RANK = 2.0
# Dimensional collapse (Jing et al. 2022): the spread uses under a tenth of the dimensions. A
# convention for the sentence, not a value from the literature.
LOW_RANK_FRACTION = 0.1
# A change of the sd or the effective rank under 5 % of its first value is called flat.
RELATIVE_TOLERANCE = 0.05
# A change of the probe AUC under 0.005 (half a point) is within one probe seed's noise: flat.
AUC_TOLERANCE = 0.005
# Still rising: the AUC grew by more than 0.001 per epoch over the last epochs (0.01 per 10 epochs).
RISING_SLOPE = 0.001
SLOPE_EPOCHS = 3
# The paper's pretraining corpus: Chapman + Ningbo and CODE-15 as its code selects them (the paper: "approximately
# 180,000").
PAPER_CORPUS = 174_140
# A transient dip: at an epoch before the last, the mean sd fell below half of its first value.
DIP_SD_FRACTION = 0.5
# A probe whose validation AUC stays within this of 0.5 at every epoch is at chance: its curve has no trend to
# read, whatever its slope (the claims' "no difference" margin, report.claims.EQUIVALENCE_MARGIN, is as wide).
CHANCE_MARGIN = 0.02
# Nor has a curve scored on fewer validation records than this (the claims give no verdict below 10 test records,
# report.claims.MIN_RECORDS).
MIN_VAL_RECORDS = 10


def at_chance(curve: pd.DataFrame) -> bool:
    """True when the validation probe AUC stayed within :data:`CHANCE_MARGIN` of 0.5 at every saved epoch."""
    auc = curve["probe_val_auc"].to_numpy(float)
    return bool(len(auc)) and bool(np.all(np.abs(auc[np.isfinite(auc)] - 0.5) <= CHANCE_MARGIN))


def no_trend(curve: pd.DataFrame) -> str | None:
    """Why the validation probe of ``curve`` has no trend to read (too few validation records, at chance), in one
    sentence; None when it has one. ``val_records``: the curve's column of validation-fold size, where recorded."""
    n_val = int(curve["val_records"].iloc[0]) if "val_records" in curve and len(curve) else None
    if n_val is not None and n_val < MIN_VAL_RECORDS:
        return (f"The validation fold has {n_val} records, too few to read a trend from (at least "
                f"{MIN_VAL_RECORDS}), so this curve says nothing about longer pretraining.")
    if at_chance(curve):
        auc = curve["probe_val_auc"]
        return (f"The validation probe AUC stayed at chance ({auc.min():.3f}-{auc.max():.3f}, within "
                f"{CHANCE_MARGIN:g} of 0.5 at every epoch), so this curve says nothing about longer pretraining.")
    return None


def _load(path: Path, family: str):
    """One encoder export of the run, in eval mode."""
    if family == "kim":
        encoder, _ = load_checkpoint(path, drop_path_rate=0.0)
        return encoder.eval()
    if family == "weimann":
        return load_weimann_encoder(path)
    raise ValueError(f"family must be 'kim' or 'weimann', got {family!r}")


def saved_epochs(run_dir: Path) -> list[int]:
    """Epochs with an ``encoder_epochNNN.pt`` in ``run_dir``, ascending; an error naming the folder if none."""
    epochs = sorted(int(m.group(1)) for p in Path(run_dir).glob("encoder_epoch*.pt")
                    if (m := _ENCODER_NAME.fullmatch(p.name)))
    if not epochs:
        raise FileNotFoundError(f"{run_dir}: no encoder_epochNNN.pt files (is it a pretraining run folder, "
                                "saved with save_every > 0?)")
    return epochs


def epoch_losses(run_dir: Path) -> pd.Series:
    """Mean training loss per epoch, indexed by the epoch count of the encoder file saved after it
    (``log.csv`` numbers epochs from 0, ``encoder_epoch001.pt`` follows epoch 0); empty without a log."""
    log = Path(run_dir) / LOG
    if not log.is_file():
        return pd.Series(dtype=float)
    df = pd.read_csv(log, usecols=["epoch", "loss"])
    means = df.groupby("epoch")["loss"].mean()
    means.index = means.index + 1
    return means


def pooled_features(x: np.ndarray, device: str = "cpu") -> Callable[[object], np.ndarray]:
    """A ``features_of`` for :func:`curve_of_run`: the mean-pooled (N, D) features of the (N, L, T) records ``x``.

    ``x`` is what the encoder reads: the Kim encoder's leads at 250 Hz, or for Weimann's family
    ``weimann_family.upsampled(...)`` of all 12 leads, as in :mod:`ecgjepa_core.study.kim_vs_weimann`.
    """
    return lambda encoder: extract_features(encoder, x, device=device, progress=False)


def curve_of_run(run_dir: Path, family: str, features_of: Callable[[object], np.ndarray], y: np.ndarray,
                 train_rows: np.ndarray, val_rows: np.ndarray, seed: int = 0,
                 epochs: Sequence[int] | None = None) -> pd.DataFrame:
    """One row per saved epoch (all of them, or ``epochs``) with the columns :data:`COLUMNS`.

    ``features_of(encoder)`` gives the (N, D) features of the N labelled records, ``y`` their (N, C)
    multi-label targets. The collapse measures use the ``train_rows`` features; the linear probe
    (``seed``) trains on ``train_rows`` and is scored (macro AUC) on ``val_rows``. ``loss`` is NaN
    when the folder has no ``log.csv``.
    """
    run_dir = Path(run_dir)
    epochs = saved_epochs(run_dir) if epochs is None else list(epochs)
    losses = epoch_losses(run_dir)
    rows = []
    for epoch in epochs:
        features = np.asarray(features_of(_load(run_dir / encoder_file(epoch), family)))
        if len(features) != len(y):
            raise ValueError(f"{run_dir / encoder_file(epoch)}: {len(features)} feature rows for {len(y)} targets")
        d = representation_diagnostics(features[train_rows], y[train_rows], features[val_rows], y[val_rows],
                                       task="multilabel", seed=seed)
        rows.append({"epoch": epoch, "loss": float(losses.get(epoch, np.nan)), "probe_val_auc": d.probe_val,
                     "mean_sd": d.mean_sd, "effective_rank": d.effective_rank,
                     "effective_rank_uncentred": d.effective_rank_uncentred, "dim": d.dim})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _trend(first: float, last: float, tolerance: float) -> str:
    """'rose' / 'fell' / 'stayed flat' from ``first`` to ``last``, changes within ``tolerance`` being flat."""
    if abs(last - first) <= tolerance:
        return "stayed flat"
    return "rose" if last > first else "fell"


def collapse_verdict(curve: pd.DataFrame, dim: int) -> str:
    """One sentence on whether the run collapsed, from a :func:`curve_of_run` table (rows in epoch order).

    Starts with 'Collapsed', 'Dimensional collapse' or 'No collapse'; the thresholds are the
    module constants.
    """
    curve = curve.sort_values("epoch")
    first, last = curve.iloc[0], curve.iloc[-1]
    sd_trend = _trend(first.mean_sd, last.mean_sd, RELATIVE_TOLERANCE * first.mean_sd)
    rank_trend = _trend(first.effective_rank, last.effective_rank, RELATIVE_TOLERANCE * first.effective_rank)
    auc_trend = _trend(first.probe_val_auc, last.probe_val_auc, AUC_TOLERANCE)
    if last.mean_sd < COLLAPSED_SD_FRACTION * first.mean_sd or last.effective_rank < COLLAPSED_RANK:
        head = "Collapsed"
    elif last.effective_rank < LOW_RANK_FRACTION * dim:
        head = "Dimensional collapse"
    else:
        head = "No collapse"
    text = (f"{head}: at epoch {last.epoch:.0f} the effective rank is {last.effective_rank:.1f} of {dim} "
            f"dimensions ({last.effective_rank / dim:.0%}; it {rank_trend} from {first.effective_rank:.1f} at "
            f"epoch {first.epoch:.0f}), the mean per-dimension sd {sd_trend} from {first.mean_sd:.3g} to "
            f"{last.mean_sd:.3g}, and the validation probe AUC {auc_trend} from {first.probe_val_auc:.3f} to "
            f"{last.probe_val_auc:.3f}.")
    low = curve.iloc[:-1].loc[lambda c: c.mean_sd < DIP_SD_FRACTION * first.mean_sd]
    if len(low):
        worst = low.loc[low.mean_sd.idxmin()]
        text += (f" On the way it dipped towards collapse: at epoch {worst.epoch:.0f} the mean sd was "
                 f"{worst.mean_sd:.3g} ({worst.mean_sd / first.mean_sd:.0%} of epoch {first.epoch:.0f}'s), the "
                 f"effective rank {worst.effective_rank:.1f} and the probe AUC {worst.probe_val_auc:.3f}, then "
                 "it recovered.")
    return text


def _last_slope(curve: pd.DataFrame, column: str) -> float | None:
    """Least-squares slope of ``column`` per epoch over the last :data:`SLOPE_EPOCHS` saved epochs; None with
    fewer than two epochs or a missing value."""
    tail = curve.sort_values("epoch").tail(SLOPE_EPOCHS)
    values = tail[column].to_numpy(float)
    if len(tail) < 2 or not np.isfinite(values).all():
        return None
    return float(np.polyfit(tail["epoch"].to_numpy(float), values, 1)[0])


def extrapolation_text(curve: pd.DataFrame) -> str:
    """One sentence: was the validation probe AUC still rising at the last epoch (:func:`_last_slope`)? A curve
    without a trend to read (:func:`no_trend`) says why instead."""
    if reason := no_trend(curve):
        return reason
    slope = _last_slope(curve, "probe_val_auc")
    if slope is None:
        return ("With a single saved epoch there is no trend of the validation probe AUC to extrapolate."
                if len(curve) < 2 else "The validation probe AUC is undefined at the last epochs: no trend to "
                                       "extrapolate.")
    tail = curve.sort_values("epoch").tail(SLOPE_EPOCHS)
    span = f"epochs {tail['epoch'].iloc[0]:.0f}-{tail['epoch'].iloc[-1]:.0f}"
    if slope > RISING_SLOPE:
        return (f"The validation probe AUC was still rising at the last epoch ({slope:+.4f} per epoch over {span}), "
                "so longer pretraining would likely raise it further.")
    if slope < -RISING_SLOPE:
        return (f"The validation probe AUC was falling at the last epoch ({slope:+.4f} per epoch over {span}), "
                "so longer pretraining would likely not help it.")
    return (f"The validation probe AUC had levelled off by the last epoch ({slope:+.4f} per epoch over {span}), "
            "so longer pretraining would likely change it little.")


def full_scale_text(curves: pd.DataFrame, steps: int, records: int, width: int, paper_epochs: int) -> str:
    """What the curves (``run`` column, one per main run) imply beyond this scale, in one paragraph. Runs without a
    trend to read (:func:`no_trend`: too few validation records, a probe at chance) are counted apart; with every
    run there, the paragraph concludes nothing about longer pretraining."""
    falling = rising = loss_falling = chance = 0
    for _, curve in curves.groupby("run"):
        loss = _last_slope(curve, "loss")
        loss_falling += loss is not None and loss < 0
        if no_trend(curve):
            chance += 1
            continue
        auc = _last_slope(curve, "probe_val_auc")
        if auc is not None:
            falling += auc < -RISING_SLOPE
            rising += auc > RISING_SLOPE
    n = curves["run"].nunique()
    scale = (f"nothing in these curves predicts the paper's scale (a 768-wide encoder for {paper_epochs} epochs on "
             f"~{PAPER_CORPUS:,} ECGs, {PAPER_CORPUS / records:.0f} times this corpus). That question needs the "
             "`paper` profile (GPU) or the authors' weights (`paper-eval`).")
    text = f"Beyond this scale: these runs took {steps} steps on {records:,} ECGs with an encoder {width} wide. "
    if chance == n:
        return (text + f"No run's validation probe has a trend to read (too few validation records, or at chance "
                f"within {CHANCE_MARGIN:g} of AUC 0.5), while the pretraining loss still fell for {loss_falling} of "
                f"{n}: these curves say nothing about longer pretraining, and " + scale)
    at = f" ({chance} of {n} without a trend to read)" if chance else ""
    if rising:
        verdict = "so more of the same pretraining might still raise those probes"
    elif loss_falling:
        verdict = ("at this size the objective keeps improving after the probe stops, so more of the same pretraining "
                   "would not raise the linear probes")
    else:
        verdict = "so more of the same pretraining would not raise the linear probes"
    return (text + f"At their last epochs the validation probe AUC was rising for {rising} of {n} runs and falling "
            f"for {falling}{at}, while the pretraining loss still fell for {loss_falling}: {verdict}, and " + scale)


def study_curves(study, variants: Sequence) -> tuple[pd.DataFrame, list[str]]:
    """Curves of the pretraining runs of ``variants`` (``study.Variant``; pretrained first where needed) on PTB-XL
    multi-label, probes on the standard split's folds 1-8, scored on fold 9; one ``run`` column per variant key.
    Returns the curves and, per run, its collapse verdict and extrapolation in one line."""
    from ecgjepa_core.data.splits import ptbxl_standard_split

    data = study.ptbxl
    split = ptbxl_standard_split(data.records)
    train, val = data.rows(split.train), data.rows(split.val)
    frames = []
    for variant in variants:
        run_dir, _ = study.pretrained(variant)
        curve = curve_of_run(run_dir, variant.family, pooled_features(study.inputs(variant, data), study.device),
                             data.y, train, val, seed=study.seed)
        frames.append(curve.assign(run=study.run_key(variant), val_records=len(val)))
    curves = pd.concat(frames, ignore_index=True)
    first = study.pretraining_summary(list(variants)[:1]).iloc[0]
    return curves, verdicts(curves, int(first["steps"]), int(first["corpus_records"]), study.profile.model.embed_dim)


def verdicts(curves: pd.DataFrame, steps: int, records: int, width: int) -> list[str]:
    """Per run of ``curves`` (``run`` column) its collapse verdict and extrapolation in one line, then what the
    curves imply beyond this scale (``steps`` and ``records`` of the first run, the encoder ``width``)."""
    lines = [f"`{run}`: {collapse_verdict(curve, int(curve['dim'].iloc[0]))} {extrapolation_text(curve)}"
             for run, curve in curves.groupby("run", sort=False)]
    return lines + [full_scale_text(curves, steps, records, width, paper().pretrain.epochs)]


SUMMARY = "learning_curves_summary"


def write_verdicts(results_dir: Path, lines: Sequence[str]) -> Path:
    """``learning_curves_summary.md``: each run's collapse verdict and extrapolation (a section of REPORT.md)."""
    path = atomic_write_text(Path(results_dir) / f"{SUMMARY}.md", "\n".join(
        ["## Learning curves and collapse", "",
         "Validation-fold linear probe (PTB-XL folds 1-8 / 9, multi-label AUC) and collapse measures after every "
         "pretraining epoch, first seed of each main run (`learning_curves.csv`, figure `learning_curves.png`).", ""]
        + [f"- {line}" for line in lines]) + "\n")
    provenance.write_identity(results_dir, SUMMARY, {}, [path])  # the report checks its content
    return path
