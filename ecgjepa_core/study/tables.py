"""The paper's eight result tables, computed by a :class:`Study` and set beside the paper's numbers.

Each ``tableN_*`` function runs the protocol of METHOD_SPEC §9 for every row of that table that
this project can produce, and returns (table, details): the table has the columns of
``report.compare_with_paper``; details hold what the figures need (test scores, features).

Aggregation, stated in every row's protocol: linear probes are repeated over the study's probe
seeds (mean ± population sd); the 95 % CI is a bootstrap over test records of the first seed's
scores. Cross-validated datasets pool the out-of-fold test scores of all folds before scoring.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ecgjepa_core.study.datasets import LabelledSet, cpsc_splits, ptbxl_splits
from ecgjepa_core.evaluation import (feature_regression, finetune, linear_probe, low_shot_probe, low_shot_size,
                         supervised_from_scratch)
from ecgjepa_core.evaluation.recipes import FINETUNE_CODE, FinetuneRecipe
from ecgjepa_core.evaluation.scoring import bootstrap_cis, evaluate_scores
from ecgjepa_core.report.markdown import compare_with_paper
from ecgjepa_core.study.study import MB, RB, RB_12_LEADS, RB_REAL_ONLY, Study, Variant, masking_variant, without_cropa

ML, MC = "multi-label", "multi-class"
TASK = {ML: "multilabel", MC: "multiclass"}
# Our metric -> (row label, the paper's metric it is compared with).
METRICS = {ML: {"auc": "AUC", "f1": "F1"},
           MC: {"auc_ovo": "AUC (one-vs-one)", "auc_ovr": "AUC (one-vs-rest)", "f1": "F1"}}


@dataclass(frozen=True)
class Fold:
    train: np.ndarray
    test: np.ndarray
    val: np.ndarray


@dataclass(frozen=True)
class Evaluation:
    """Where a dataset is evaluated: one fold (a fixed split) or k folds (cross-validation)."""

    label: str          # short, for the table's setting column
    description: str    # the split in words, for the protocol column
    folds: tuple[Fold, ...]


def evaluations(study: Study, data: LabelledSet) -> list[Evaluation]:
    """PTB-XL: one evaluation per split of the profile; CPSC: its paper split or stratified k-fold."""
    if data.name == "PTB-XL":
        splits = ptbxl_splits(study.profile, data)
        return [Evaluation(f"{name} split", s.description,
                           (Fold(data.rows(s.train), data.rows(s.test), data.rows(s.val)),))
                for name, s in splits.items()]
    splits = cpsc_splits(study.profile, data, seed=study.seed)
    label = "g1-g6 / g7" if len(splits) == 1 else f"{len(splits)}-fold CV"
    return [Evaluation(label, splits[0].description if len(splits) == 1 else
                       splits[0].description.split(", fold 1")[0],
                       tuple(Fold(data.rows(s.train), data.rows(s.test), data.rows(s.val)) for s in splits))]


def task_fold(data: LabelledSet, fold: Fold, kind: str) -> tuple[Fold, Callable[[np.ndarray], np.ndarray]]:
    """Rows and a label function for ``kind``: multi-class keeps single-label records (§2.7.7)."""
    if kind == ML:
        return fold, lambda rows: data.y[rows]
    keep = Fold(data.single_label(fold.train), data.single_label(fold.test), data.single_label(fold.val))
    return keep, lambda rows: data.y[rows].argmax(1)


def _aggregate(per_seed: list[dict[str, float]], ci: dict, kind: str, n_runs: int) -> dict[str, dict]:
    out = {}
    for metric, label in METRICS[kind].items():
        values = np.array([m[metric] for m in per_seed])
        c = ci.get(metric)
        out[label] = {"ours": float(values.mean()), "sd": float(values.std()) if len(values) > 1 else np.nan,
                      "ci_low": c.low if c else np.nan, "ci_high": c.high if c else np.nan, "n_runs": n_runs}
    return out


def pooled_runs(run_fold: Callable[[Fold, Callable, int], tuple[np.ndarray, np.ndarray]], data: LabelledSet,
                evaluation: Evaluation, kind: str, seeds: Sequence[int], n_boot: int,
                keep: dict | None = None) -> dict[str, dict]:
    """Run ``run_fold(fold, labels, seed) -> (y_test, scores)`` over folds and seeds; pool folds per seed.

    ``keep`` (a dict) receives the first seed's pooled ``(y_test, scores)`` under ``"scores"`` and the
    data rows they belong to under ``"rows"`` (what a paired comparison of two rows checks).
    """
    per_seed, ci = [], {}
    for i, seed in enumerate(seeds):
        ys, scores, rows = [], [], []
        for fold in evaluation.folds:
            tf, labels = task_fold(data, fold, kind)
            y, s = run_fold(tf, labels, seed)
            ys.append(y)
            scores.append(s)
            rows.append(tf.test)
        y, s = np.concatenate(ys), np.concatenate(scores)
        per_seed.append(evaluate_scores(TASK[kind], y, s))
        if i == 0:
            if keep is not None:
                keep.update(scores=(y, s), rows=np.concatenate(rows))
            ci = bootstrap_cis(TASK[kind], y, s, n_boot, seed, names=tuple(METRICS[kind]))
    return _aggregate(per_seed, ci, kind, len(seeds))


def probe_rows(study: Study, method: str, features: np.ndarray, data: LabelledSet, kind: str,
               encoder_desc: str, extra_setting: str = "", paper_key: dict | None = None,
               recipe: str | None = None) -> list[dict]:
    """Linear-probe rows (AUC, F1) of one encoder on one dataset and task, for every evaluation.

    ``recipe``: the probe recipe (default: the profile's)."""
    plan = study.profile.evaluation
    recipe = recipe or plan.probe_recipe
    n_classes = len(data.classes)
    rows = []
    for ev in evaluations(study, data):
        def run(fold, labels, seed):
            res = linear_probe(features[fold.train], labels(fold.train), features[fold.test], labels(fold.test),
                               TASK[kind], recipe=recipe, seed=seed, n_boot=0, n_classes=n_classes)
            return res.y_test, res.test_scores
        kept = study.scores.setdefault((method, data.name, kind, ", ".join(p for p in (extra_setting, ev.label) if p)), {})
        cells = pooled_runs(run, data, ev, kind, study.probe_seeds, plan.bootstrap, keep=kept)
        protocol = (f"linear probe ({recipe} recipe, last epoch), {len(study.probe_seeds)} seeds; "
                    f"{ev.description}; {encoder_desc}")
        setting = ", ".join(p for p in (extra_setting, ev.label) if p)
        rows += [dict(method=method, dataset=data.name, task=kind, metric=label, setting=setting, **cell,
                      protocol=protocol, paper_key={"setting": "", "metric": label.split(" (")[0], **(paper_key or {})})
                 for label, cell in cells.items()]
    return rows


def _encoders(study: Study, variants: Sequence[Variant], random_init: bool = True):
    """(method, feature key, encoder, description) for each variant, plus the random-init baseline."""
    out = [(v.method if v in (RB, MB) else f"{v.method} [{v.key}]", v.key, study.encoder(v),
            f"{study.model_text}, pretrained {study.epochs} epochs ({v.key})") for v in variants]
    if random_init:
        out.append(("Random init", "random", study.random_encoder(), f"{study.model_text}, randomly initialised"))
    return out


def table1_linear(study: Study) -> pd.DataFrame:
    """Linear evaluation, multi-label and multi-class, PTB-XL and CPSC (P-B Table 1)."""
    variants = [RB, MB] + ([RB_REAL_ONLY] if study.profile.synthetic else [])
    rows = []
    for method, key, enc, desc in _encoders(study, variants):
        for data in (study.ptbxl, study.cpsc):
            feats = study.features(key, enc, data)
            for kind in (ML, MC):
                rows += probe_rows(study, method, feats, data, kind, desc)
        if study.profile.evaluation.probe_recipe != "code":  # the authors' recipe as published, for reference
            for kind in (ML, MC):
                rows += probe_rows(study, method, study.features(key, enc, study.ptbxl), study.ptbxl, kind, desc,
                                   extra_setting="raw features (authors' probe)", recipe="code")
    return compare_with_paper("linear", rows)


def finetune_rows(study: Study, method: str, make_result: Callable, data: LabelledSet, kind: str,
                  desc: str, paper_key: dict | None = None, setting_prefix: str = "",
                  only: tuple[str, ...] | None = None) -> list[dict]:
    """Fine-tuning rows; the standard split selects the epoch on its validation fold.

    ``only``: evaluation labels to run (e.g. ``("paper split",)``); default all.
    """
    plan = study.profile.evaluation
    rows = []
    for ev in evaluations(study, data):
        if only is not None and ev.label not in only:
            continue
        select = "val" if all(len(f.val) for f in ev.folds) else "last"

        def run(fold, labels, seed):
            res = make_result(fold, labels, seed, select)
            return res.y_test, res.test_scores
        kept = study.scores.setdefault((method, data.name, kind, ", ".join(p for p in (setting_prefix, ev.label) if p)), {})
        cells = pooled_runs(run, data, ev, kind, (study.seed,), plan.bootstrap, keep=kept)
        rule = "epoch chosen on the validation fold" if select == "val" else "last epoch"
        protocol = f"{desc}; batch {plan.finetune_batch}; {rule}; 1 seed; {ev.description}"
        setting = ", ".join(p for p in (setting_prefix, ev.label) if p)
        rows += [dict(method=method, dataset=data.name, task=kind, metric=label, setting=setting, **cell,
                      protocol=protocol, paper_key={"setting": "", "metric": label.split(" (")[0], **(paper_key or {})})
                 for label, cell in cells.items()]
    return rows


def finetune_recipe_of(study: Study) -> FinetuneRecipe:
    """The authors' fine-tuning recipe with the profile's epochs and batch size."""
    plan = study.profile.evaluation
    return dataclasses.replace(FINETUNE_CODE, epochs=plan.finetune_epochs, batch_size=plan.finetune_batch)


def _finetune_maker(study: Study, data: LabelledSet, kind: str, encoder=None, scratch_epochs: int | None = None):
    """``make(fold, labels, seed, select) -> ClassificationResult``: fine-tune ``encoder``, or train the
    same architecture from scratch for ``scratch_epochs`` epochs (the "Supervised" row)."""
    def make(fold, labels, seed, select):
        val = dict(val_x=data.x(fold.val), val_y=labels(fold.val)) if select == "val" else {}
        args = (data.x(fold.train), labels(fold.train), data.x(fold.test), labels(fold.test))
        common = dict(task=TASK[kind], select=select, seed=seed, n_boot=0, n_classes=len(data.classes),
                      device=study.device, progress=study.progress, recipe=finetune_recipe_of(study), **val)
        if scratch_epochs is not None:
            return supervised_from_scratch(study.profile.model, *args, epochs=scratch_epochs, **common)
        return finetune(encoder, *args, **common)
    return make


def table2_finetune(study: Study) -> pd.DataFrame:
    """Fine-tuning, multi-class, PTB-XL and CPSC (P-B Table 2), with the supervised baseline."""
    plan = study.profile.evaluation
    tuned = f"{study.model_text}, fine-tuned {plan.finetune_epochs} epochs (code recipe: 0.67-40 Hz filters, RandAugment)"
    rows = []
    for data in (study.ptbxl, study.cpsc):
        for variant in (RB, MB):
            make = _finetune_maker(study, data, MC, study.encoder(variant))
            rows += finetune_rows(study, variant.method, make, data, MC,
                                  f"{tuned}, from {study.epochs}-epoch pretraining")
        make = _finetune_maker(study, data, MC, study.random_encoder())
        rows += finetune_rows(study, "Random init", make, data, MC, f"{tuned}, from random initialisation")
        make = _finetune_maker(study, data, MC, scratch_epochs=plan.supervised_epochs)
        rows += finetune_rows(study, "Supervised", make, data, MC,
                              f"{study.model_text} trained from scratch, {plan.supervised_epochs} epochs")
    return compare_with_paper("finetune", rows)


def table3_low_shot(study: Study) -> pd.DataFrame:
    """Low-shot linear evaluation, PTB-XL multi-label (P-B Table 3): mean ± sd over draws."""
    plan = study.profile.evaluation
    rows = []
    for method, key, enc, desc in _encoders(study, [RB, MB]):
        feats = study.features(key, enc, study.ptbxl)
        for ev in evaluations(study, study.ptbxl):
            fold, labels = task_fold(study.ptbxl, ev.folds[0], ML)
            for fraction in plan.low_shot:
                pct = f"{fraction:.0%}"
                n = low_shot_size(len(fold.train), fraction)
                if n < 2:  # nothing to train on: say so in the table instead of a number
                    rows.append(dict(method=method, dataset="PTB-XL", task=ML, metric="AUC",
                                     setting=f"{pct} ({n} records), {ev.label}", ours=np.nan,
                                     protocol=f"not computed: {pct} of {len(fold.train)} training records is {n}",
                                     paper_key={"setting": pct}))
                    continue
                res = low_shot_probe(feats[fold.train], labels(fold.train), feats[fold.test], labels(fold.test),
                                     "multilabel", fraction, recipe=plan.probe_recipe, n_draws=plan.low_shot_draws,
                                     seed=study.seed, n_boot=0)
                rows.append(dict(method=method, dataset="PTB-XL", task=ML, metric="AUC",
                                 setting=f"{pct} ({res.n_per_draw} records), {ev.label}", ours=res.mean["auc"],
                                 sd=res.sd["auc"], n_runs=plan.low_shot_draws,
                                 protocol=f"{plan.low_shot_draws} draws of {res.n_per_draw} training records, "
                                          f"linear probe each; mean ± population sd; {ev.description}; {desc}",
                                 paper_key={"setting": pct}))
    return compare_with_paper("low_shot", rows)


REDUCED_LEADS = (("II", (1,)), ("II+V1", (1, 2)))


def table4_reduced_leads(study: Study) -> pd.DataFrame:
    """Linear evaluation from lead II and from II + V1, PTB-XL multi-label (P-B Table 4)."""
    rows = []
    for method, key, enc, desc in _encoders(study, [RB, MB]):
        for name, leads in REDUCED_LEADS:
            feats = study.features(key, enc, study.ptbxl, leads=leads)
            rows += probe_rows(study, method, feats, study.ptbxl, ML, f"{desc}; leads {name} keep their lead codes",
                               extra_setting=name, paper_key={"setting": name})
    return compare_with_paper("reduced_leads", rows)


def table5_ecg_features(study: Study, labels: pd.DataFrame, ludb_summary: dict | None = None) -> pd.DataFrame:
    """Heart rate and QRS duration regressed on frozen features, PTB-XL (P-B Table 5).

    ``labels``: one row per PTB-XL record (``heart_rate``, ``qrs_duration``) from ``ecg_features``.
    ``ludb_summary``: the delineator's own error on LUDB, shown as its own row (the floor).
    """
    plan = study.profile.evaluation
    rows = []
    for method, key, enc, desc in _encoders(study, [RB, MB]):
        feats = study.features(key, enc, study.ptbxl)
        for ev in evaluations(study, study.ptbxl):
            fold = ev.folds[0]
            for target, unit in (("heart rate", "bpm"), ("QRS duration", "ms")):
                col = "heart_rate" if target == "heart rate" else "qrs_duration"
                t = labels[col].to_numpy(dtype=float)
                res = feature_regression(feats[fold.train], t[fold.train], feats[fold.test], t[fold.test],
                                         seed=study.seed, n_boot=plan.bootstrap, target=target, units=unit)
                rows.append(dict(method=method, dataset="PTB-XL", task=target, metric="MAE", setting=ev.label,
                                 ours=res.mae.mae, sd=res.mae.sd, ci_low=res.ci.low if res.ci else np.nan,
                                 ci_high=res.ci.high if res.ci else np.nan,
                                 protocol=f"least-squares linear regression on frozen features, targets "
                                          f"standardised on train; {res.dropped} records without a label dropped; "
                                          f"MAE ± sd of |error| ({unit}); {ev.description}; {desc}",
                                 paper_key={"setting": ""}))
    if ludb_summary:
        for target, key in (("heart rate", "heart_rate"), ("QRS duration", "qrs_duration")):
            m = ludb_summary[key]
            rows.append(dict(method="label delineator vs LUDB cardiologists", dataset="LUDB", task=target,
                             metric="MAE", ours=m.mae, sd=m.sd,
                             protocol=f"our neurokit2-based labels against expert annotations on "
                                      f"{ludb_summary['records']} LUDB records at {ludb_summary['fs']} Hz; "
                                      f"{ludb_summary[f'{key}_failures']} failures"))
    return compare_with_paper("feature_regression", rows)


def table6_cropa(study: Study) -> pd.DataFrame:
    """CroPA ablation: linear and fine-tuned multi-class AUC on PTB-XL with and without CroPA (P-B Table 6)."""
    rows = []
    for base in (RB, MB):
        for cropa in (True, False):
            variant = base if cropa else without_cropa(base)
            enc = study.encoder(variant)
            tag = "yes" if cropa else "no"
            feats = study.features(variant.key, enc, study.ptbxl)
            rows += probe_rows(study, base.method, feats, study.ptbxl, MC, f"{study.model_text}, pretrained {study.epochs} epochs, "
                               f"CroPA {tag}", extra_setting=f"cropa={tag}, linear",
                               paper_key={"setting": f"cropa={tag}, linear", "epochs": 100})
            rows += finetune_rows(study, base.method, _finetune_maker(study, study.ptbxl, MC, enc), study.ptbxl, MC,
                                  f"fine-tuned {study.profile.evaluation.finetune_epochs} epochs (code recipe), "
                                  f"CroPA {tag}", setting_prefix=f"cropa={tag}, finetune",
                                  paper_key={"setting": f"cropa={tag}, finetune", "epochs": 100},
                                  only=study.profile.evaluation.ablation_finetune_on)
    table = compare_with_paper("cropa_ablation", rows)
    return table[table["metric"].str.startswith("AUC")].reset_index(drop=True)


def _ratio_text(kind: str, x: float) -> str:
    """The paper's spelling of a ratio: 0.3 for random masking, 0.10 / 0.175 for multi-block."""
    text = f"{x:g}"
    return text if kind == "random" or len(text.split(".")[1]) >= 2 else f"{x:.2f}"


def table7_masking(study: Study) -> pd.DataFrame:
    """Masking strategy and ratio, PTB-XL multi-label linear (P-B Table 7)."""
    rows = []
    for kind, scale in study.profile.evaluation.mask_ratios:
        variant = masking_variant(kind, scale)
        freq = 1 if kind == "random" else variant.mask.n_blocks
        setting = f"ratio=({_ratio_text(kind, scale[0])}, {_ratio_text(kind, scale[1])}), freq={freq}"
        feats = study.features(variant.key, study.encoder(variant), study.ptbxl)
        rows += probe_rows(study, variant.method, feats, study.ptbxl, ML, f"{study.model_text}, pretrained {study.epochs} epochs",
                           extra_setting=setting, paper_key={"setting": setting})
    return compare_with_paper("masking", rows)


def table8_leads(study: Study) -> pd.DataFrame:
    """8-lead vs 12-lead ECG-JEPA_rb, PTB-XL multi-label linear (P-B Table 8)."""
    rows = []
    for variant in (RB, RB_12_LEADS):
        name = f"{variant.n_leads} leads"
        feats = study.features(variant.key, study.encoder(variant), study.ptbxl)
        rows += probe_rows(study, variant.method, feats, study.ptbxl, ML, f"{study.model_text}, pretrained {study.epochs} epochs, "
                           f"{name}", extra_setting=name, paper_key={"setting": name})
    return compare_with_paper("leads_8_vs_12", rows)


def pretrained_variants(study: Study) -> list[Variant]:
    """Every pretrained model Tables 1-8 use, each once: rb, mb, then the ablations."""
    out = [RB, MB] + ([RB_REAL_ONLY] if study.profile.synthetic else [])
    out += [without_cropa(RB), without_cropa(MB), RB_12_LEADS]
    out += [masking_variant(kind, scale) for kind, scale in study.profile.evaluation.mask_ratios]
    return list(dict.fromkeys(out))
