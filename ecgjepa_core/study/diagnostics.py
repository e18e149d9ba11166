"""Representation diagnostics of every encoder the readouts table probes: is it position code, has it collapsed,
and how much of its pretraining loss does position alone explain?

One row per encoder run (pretraining seed, or initialisation seed of a random init):

* ``position_share``: the share of the token variance over PTB-XL's training records that the token's position
  explains (``evaluation.readouts.PositionShare``); above :data:`POSITION_DOMINATES` the row says that its tokens
  are mostly position code, so mean-pooling them keeps little of the record;
* collapse measures of the mean-pooled features of the same records (``evaluation.collapse``): the mean
  per-dimension sd, the centred effective rank (how many directions the records differ along) and the uncentred
  one (near 1 when one shared vector dominates every feature); the verdict uses :data:`COLLAPSED_RANK` and
  :data:`LOW_RANK_FRACTION` of the learning curves;
* for a run pretrained here, the shortcut losses of ``training.shortcut`` on validation fold 9 (the model's loss
  on the real records, with an all-zero signal in the student, and of the per-position mean target).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ecgjepa_core.checkpoint import read_checkpoint_file
from ecgjepa_core.data.splits import ptbxl_standard_split
from ecgjepa_core.evaluation.collapse import effective_rank, mean_feature_sd
from ecgjepa_core.models.ecgjepa import ECGJEPA
from ecgjepa_core.models.weimann import WeimannJEPA
from ecgjepa_core.models.weimann_masking import sample_masks
from ecgjepa_core.study.learning_curves import COLLAPSED_RANK, LOW_RANK_FRACTION
from ecgjepa_core.training.pretrain import CHECKPOINT
from ecgjepa_core.training.shortcut import kim_shortcut_losses, weimann_shortcut_losses

POSITION_DOMINATES = 0.9  # share of the token variance explained by position alone
SHORTCUT_MASKS = 4        # mask draws per shortcut measurement
# A run whose loss with an all-zero signal is within this factor of its loss on the real records learned its
# loss from position: the record it sees lowers the loss by less than 10 %.
SHORTCUT_RATIO = 1.1


def collapse_verdict(rank: float, dim: int) -> str:
    if rank < COLLAPSED_RANK:
        return "collapsed"
    if rank < LOW_RANK_FRACTION * dim:
        return "dimensional collapse"
    return "no collapse"


def trained_model(study, variant) -> ECGJEPA | WeimannJEPA:
    """The whole model (student or encoder, teacher, predictor) at the end of ``variant``'s run, eval mode."""
    run_dir, _ = study.pretrained(variant)
    state = read_checkpoint_file(run_dir / CHECKPOINT)
    cfg = study.model_config(variant)
    model = WeimannJEPA(cfg) if variant.family == "weimann" else ECGJEPA(cfg)
    model.load_state_dict(state["model"])
    return model.eval()


def shortcut_row(study, variant) -> dict:
    """The shortcut losses of ``variant``'s trained model on PTB-XL validation fold 9, :data:`SHORTCUT_MASKS`
    mask draws seeded from the study seed."""
    data = study.ptbxl
    rows = data.rows(ptbxl_standard_split(data.records).val)
    x = torch.as_tensor(study.inputs(variant, data, rows))
    model = trained_model(study, variant)
    if variant.family == "weimann":
        c = model.cfg
        masks = [sample_masks(len(x), c.num_patches, c.min_block_size, c.min_keep_ratio, c.max_keep_ratio,
                              np.random.default_rng([study.seed, k])) for k in range(SHORTCUT_MASKS)]
        losses = weimann_shortcut_losses(model, x, masks)
    else:
        masks = [model.sample_mask(torch.Generator().manual_seed(study.seed + k)) for k in range(SHORTCUT_MASKS)]
        losses = kim_shortcut_losses(model, x, masks)
    return {f"loss_{k}" if not k.startswith("n_") else f"shortcut_{k}": v for k, v in losses.row().items()}


def diagnostics_row(study, method: str, run: str, mean_features: np.ndarray, position_share: float,
                    variant=None) -> dict:
    """One row of the diagnostics table: ``mean_features`` (N, D) are the run's mean-pooled features of every
    PTB-XL record (the training records are used), ``variant`` the pretraining run behind them (None: random init
    or a given file; no shortcut losses then)."""
    data = study.ptbxl
    train = data.rows(ptbxl_standard_split(data.records).train)
    f = np.asarray(mean_features)[train]
    rank = effective_rank(f)
    pretrained_here = variant is not None and study.given(variant) is None
    row = {"method": method, "run": run, "recipe": study.recipe(variant).text() if pretrained_here else "",
           "dim": f.shape[1], "position_share": position_share, "effective_rank": rank,
           "effective_rank_uncentred": effective_rank(f, centre=False), "mean_sd": mean_feature_sd(f),
           "collapse": collapse_verdict(rank, f.shape[1]),
           "position": "dominates" if position_share > POSITION_DOMINATES else "does not dominate"}
    if pretrained_here:
        row.update(shortcut_row(study, variant))
        row["loss"] = ("position explains it" if row["loss_position_only_ratio"] < SHORTCUT_RATIO
                       else "the record lowers it")
    return row


def caption() -> str:
    return (f"Per encoder run, on PTB-XL's training records: the share of the token variance that the token's "
            f"position alone explains (position 'dominates' above {POSITION_DOMINATES:.0%}); the centred and "
            f"uncentred effective rank and the mean per-dimension sd of the mean-pooled features, 'collapsed' below "
            f"rank {COLLAPSED_RANK:g} and 'dimensional collapse' below {LOW_RANK_FRACTION:.0%} of the width. For "
            f"runs pretrained here, the model's own loss on validation fold 9 ({SHORTCUT_MASKS} mask draws) with "
            "the real records, with an all-zero signal in the student (position only), and of predicting every "
            f"target by its position's mean target; 'position explains it' when the zero-signal loss is within "
            f"{SHORTCUT_RATIO:g}x of the real one.")


def summary_sentences(table: pd.DataFrame) -> list[str]:
    """Per method: the position share, the collapse verdict and the shortcut, in one sentence each."""
    lines = []
    for method, rows in table.groupby("method", sort=False):
        text = (f"{method}: position explains {rows['position_share'].mean():.1%} of the token variance (mean of "
                f"{len(rows)} run(s)); mean-pooled features: effective rank {rows['effective_rank'].mean():.1f} of "
                f"{int(rows['dim'].iloc[0])} (uncentred {rows['effective_rank_uncentred'].mean():.2f}), "
                f"{', '.join(sorted(set(rows['collapse'])))}.")
        if "loss_real" in rows and rows["loss_real"].notna().any():
            r = rows.dropna(subset=["loss_real"])
            text += (f" Its predictor's loss: {r['loss_real'].mean():.4g} on the real records, "
                     f"{r['loss_position_only'].mean():.4g} with an all-zero signal "
                     f"({r['loss_position_only_ratio'].mean():.2f}x), {r['loss_position_mean'].mean():.4g} for the "
                     f"per-position mean target: {', '.join(sorted(set(r['loss'])))}.")
        lines.append(text)
    return lines
