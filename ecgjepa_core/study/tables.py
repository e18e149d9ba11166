"""The paper's eight result tables, computed by a :class:`Study` and set beside the paper's numbers.

Each ``tableN_*`` builder runs the protocol of docs/protocols.md for every row of that table that
this project can produce and returns a :class:`TableResult`: rows of the one schema of
``study.results`` and the test scores of every seed behind them.

Aggregation, stated in every row: linear probes are repeated over the study's probe seeds (mean ±
population sd over seeds); the 95 % CI is a bootstrap over test records of that mean.
Cross-validated datasets pool the out-of-fold test scores of all folds before scoring.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ecgjepa_core.evaluation import (feature_regression, finetune, linear_probe, low_shot_probe, low_shot_size,
                                     supervised_from_scratch)
from ecgjepa_core.evaluation.recipes import FINETUNE_CODE, FinetuneRecipe
from ecgjepa_core.study.datasets import LabelledSet, cpsc_splits, ptbxl_splits
from ecgjepa_core.study.results import (MC, ML, TASK, TableResult, TestScores, classification_cells,
                                        row_key, to_frame)
from ecgjepa_core.study.study import (MB, RB, RB_12_LEADS, RB_REAL_ONLY, Study, Variant, masking_variant,
                                      without_cropa)

REAL_ONLY = "real ECGs only"


@dataclass(frozen=True)
class Fold:
    train: np.ndarray
    test: np.ndarray
    val: np.ndarray


@dataclass(frozen=True)
class Evaluation:
    """Where a dataset is evaluated: one fold (a fixed split) or k folds (cross-validation)."""

    label: str          # the row's ``split``
    description: str    # the split in words, for the row's details
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
    """Rows and a label function for ``kind``: multi-class keeps single-label records."""
    if kind == ML:
        return fold, lambda rows: data.y[rows]
    keep = Fold(data.single_label(fold.train), data.single_label(fold.test), data.single_label(fold.val))
    return keep, lambda rows: data.y[rows].argmax(1)


def pooled_scores(run_fold: Callable[[Fold, Callable, int], tuple[np.ndarray, np.ndarray]], data: LabelledSet,
                  evaluation: Evaluation, kind: str, seeds: Sequence[int]) -> TestScores:
    """Run ``run_fold(fold, labels, seed) -> (y_test, scores)`` over folds and seeds; folds pooled per seed."""
    per_seed, y, rows = [], None, None
    for seed in seeds:
        ys, scores, test_rows = [], [], []
        for fold in evaluation.folds:
            tf, labels = task_fold(data, fold, kind)
            y_fold, s = run_fold(tf, labels, seed)
            ys.append(y_fold)
            scores.append(s)
            test_rows.append(tf.test)
        y, rows = np.concatenate(ys), np.concatenate(test_rows)
        per_seed.append(np.concatenate(scores))
    return TestScores(y, np.stack(per_seed), rows)


def paper_key(metric_label: str, **cell) -> dict:
    """The paper cell of a row: our metric label without its parenthesis, plus the cell's fields."""
    return {"metric": metric_label.split(" (")[0], "setting": "", **cell}


class TableBuilder:
    """Collects a table's rows and kept scores; :meth:`result` sets them beside the paper."""

    def __init__(self, study: Study, name: str, paper_table: str | None):
        self.study, self.name, self.paper_table = study, name, paper_table
        self.rows: list[dict] = []
        self.scores: dict[tuple, TestScores] = {}

    def classification(self, key: dict, kind: str, scores: TestScores, n_classes: int, details: str,
                       paper: dict | None, sd_over: str) -> None:
        """Rows of every metric of ``kind`` for one row key, from the seeds' test scores."""
        plan = self.study.profile.evaluation
        self.scores[row_key(key)] = scores
        for cell in classification_cells(kind, scores.y, scores.scores, n_classes, plan.bootstrap, self.study.seed,
                                         sd_over):
            cell_paper = None if paper is None else {
                "method": key["method"], "dataset": key["dataset"], "task": key["task"],
                **paper_key(cell["metric"], **paper)}
            self.rows.append({**key, **cell, "details": details, "paper_key": cell_paper})

    def add(self, row: dict) -> None:
        self.rows.append(row)

    def result(self) -> TableResult:
        return TableResult(self.name, to_frame(self.paper_table, self.rows), self.scores)


def _row(method: str, encoder: str, dataset: str, task: str, split: str, protocol: str, ablation: str = "") -> dict:
    return dict(method=method, encoder=encoder, dataset=dataset, task=task, split=split, protocol=protocol,
                ablation=ablation)


def probe_rows(b: TableBuilder, method: str, encoder: str, features: np.ndarray, data: LabelledSet, kind: str,
               protocol: str = "linear", ablation: str = "", paper: dict | None = None,
               recipe: str | None = None) -> None:
    """Linear-probe rows (AUC, F1) of one encoder on one dataset and task, for every evaluation.

    ``recipe``: the probe recipe (default: the profile's); ``paper``: the paper cell's extra fields,
    None when the row has no published counterpart."""
    study = b.study
    recipe = recipe or study.profile.evaluation.probe_recipe
    n_classes = len(data.classes)
    for ev in evaluations(study, data):
        def run(fold, labels, seed):
            res = linear_probe(features[fold.train], labels(fold.train), features[fold.test], labels(fold.test),
                               TASK[kind], recipe=recipe, seed=seed, n_boot=0, n_classes=n_classes)
            return res.y_test, res.test_scores
        scores = pooled_scores(run, data, ev, kind, study.probe_seeds)
        details = f"linear probe ({recipe} recipe, last epoch), {len(study.probe_seeds)} seeds; {ev.description}"
        b.classification(_row(method, encoder, data.name, kind, ev.label, protocol, ablation), kind, scores,
                         n_classes, details, paper, "probe seeds")


def _encoders(study: Study, variants: Sequence[Variant], random_init: bool = True):
    """(method, feature key, encoder, encoder label) for each variant, plus the random-init baseline."""
    out = [(v.method, v.key if study.given(v) is None else f"{v.key}:file", study.encoder(v), study.encoder_label(v))
           for v in variants]
    if random_init:
        out.append(("Random init", "random", study.random_encoder(), study.random_label))
    return out


def table1_linear(study: Study) -> TableResult:
    """Linear evaluation, multi-label and multi-class, PTB-XL and CPSC (P-B Table 1)."""
    b = TableBuilder(study, "table1_linear", "linear")
    variants = [RB, MB] + ([RB_REAL_ONLY] if study.profile.synthetic and study.can_pretrain else [])
    for method, key, enc, label in _encoders(study, variants):
        ablation = REAL_ONLY if key == RB_REAL_ONLY.key else ""
        paper = None if ablation else {}
        for data in (study.ptbxl, study.cpsc):
            feats = study.features(key, enc, data)
            for kind in (ML, MC):
                probe_rows(b, method, label, feats, data, kind, ablation=ablation, paper=paper)
        if study.profile.evaluation.probe_recipe != "code":  # the authors' recipe as published, for reference
            for kind in (ML, MC):
                probe_rows(b, method, label, study.features(key, enc, study.ptbxl), study.ptbxl, kind,
                           protocol="linear, raw features (authors' probe)", ablation=ablation, paper=paper,
                           recipe="code")
    return b.result()


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


def finetune_rows(b: TableBuilder, method: str, encoder: str, make_result: Callable, data: LabelledSet, kind: str,
                  details: str, ablation: str = "", paper: dict | None = None,
                  only: tuple[str, ...] | None = None) -> None:
    """Fine-tuning rows; the standard split selects the epoch on its validation fold.

    ``only``: evaluation labels to run (e.g. ``("paper split",)``); default all.
    """
    study = b.study
    for ev in evaluations(study, data):
        if only is not None and ev.label not in only:
            continue
        select = "val" if all(len(f.val) for f in ev.folds) else "last"

        def run(fold, labels, seed):
            res = make_result(fold, labels, seed, select)
            return res.y_test, res.test_scores
        scores = pooled_scores(run, data, ev, kind, (study.seed,))
        rule = "epoch chosen on the validation fold" if select == "val" else "last epoch"
        b.classification(_row(method, encoder, data.name, kind, ev.label, "fine-tuned", ablation), kind, scores,
                         len(data.classes), f"{details}; batch {study.profile.evaluation.finetune_batch}; {rule}; "
                                            f"1 seed; {ev.description}", paper, "")


def table2_finetune(study: Study) -> TableResult:
    """Fine-tuning, multi-class, PTB-XL and CPSC (P-B Table 2), with the supervised baseline."""
    b = TableBuilder(study, "table2_finetune", "finetune")
    plan = study.profile.evaluation
    tuned = f"fine-tuned {plan.finetune_epochs} epochs (code recipe: 0.67-40 Hz filters, RandAugment)"
    for data in (study.ptbxl, study.cpsc):
        for method, _, enc, label in _encoders(study, [RB, MB]):
            finetune_rows(b, method, label, _finetune_maker(study, data, MC, enc), data, MC, tuned, paper={})
        make = _finetune_maker(study, data, MC, scratch_epochs=plan.supervised_epochs)
        finetune_rows(b, "Supervised", f"trained from scratch ({study.model_text})", make, data, MC,
                      f"trained from scratch, {plan.supervised_epochs} epochs", paper={})
    return b.result()


def table3_low_shot(study: Study) -> TableResult:
    """Low-shot linear evaluation, PTB-XL multi-label (P-B Table 3): mean ± sd over draws."""
    b = TableBuilder(study, "table3_low_shot", "low_shot")
    plan = study.profile.evaluation
    for method, key, enc, label in _encoders(study, [RB, MB]):
        feats = study.features(key, enc, study.ptbxl)
        for ev in evaluations(study, study.ptbxl):
            fold, labels = task_fold(study.ptbxl, ev.folds[0], ML)
            for fraction in plan.low_shot:
                pct = f"{fraction:.0%}"
                n = low_shot_size(len(fold.train), fraction)
                key_ = _row(method, label, "PTB-XL", ML, ev.label, "linear, low-shot", f"{pct} of training labels")
                if n < 2:  # nothing to train on: say so in the table instead of a number
                    b.add({**key_, "metric": "AUC", "ours": np.nan, "paper_key": None,
                           "details": f"not computed: {pct} of {len(fold.train)} training records is {n}"})
                    continue
                res = low_shot_probe(feats[fold.train], labels(fold.train), feats[fold.test], labels(fold.test),
                                     "multilabel", fraction, recipe=plan.probe_recipe, n_draws=plan.low_shot_draws,
                                     seed=study.seed, n_boot=0)
                b.add({**key_, "metric": "AUC", "ours": res.mean["auc"], "sd": res.sd["auc"], "sd_over": "draws",
                       "n_runs": plan.low_shot_draws, "n_test": len(fold.test),
                       "details": f"{plan.low_shot_draws} draws of {res.n_per_draw} training records, linear probe "
                                  f"each; mean ± population sd over draws; {ev.description}",
                       "paper_key": {"method": method, "dataset": "PTB-XL", "task": ML, "metric": "AUC",
                                     "setting": pct}})
    return b.result()


REDUCED_LEADS = (("II", (1,)), ("II+V1", (1, 2)))


def table4_reduced_leads(study: Study) -> TableResult:
    """Linear evaluation from lead II and from II + V1, PTB-XL multi-label (P-B Table 4)."""
    b = TableBuilder(study, "table4_reduced_leads", "reduced_leads")
    for method, key, enc, label in _encoders(study, [RB, MB]):
        for name, leads in REDUCED_LEADS:
            feats = study.features(key, enc, study.ptbxl, leads=leads)
            probe_rows(b, method, label, feats, study.ptbxl, ML, ablation=f"leads {name}", paper={"setting": name})
    return b.result()


def table5_ecg_features(study: Study, labels, ludb_summary: dict | None = None) -> TableResult:
    """Heart rate and QRS duration regressed on frozen features, PTB-XL (P-B Table 5).

    ``labels``: one row per PTB-XL record (``heart_rate``, ``qrs_duration``) from ``ecg_features``.
    ``ludb_summary``: the delineator's own error on LUDB, shown as its own row (the floor).
    """
    b = TableBuilder(study, "table5_ecg_features", "feature_regression")
    plan = study.profile.evaluation
    for method, key, enc, label in _encoders(study, [RB, MB]):
        feats = study.features(key, enc, study.ptbxl)
        for ev in evaluations(study, study.ptbxl):
            fold = ev.folds[0]
            for target, unit in (("heart rate", "bpm"), ("QRS duration", "ms")):
                col = "heart_rate" if target == "heart rate" else "qrs_duration"
                t = labels[col].to_numpy(dtype=float)
                res = feature_regression(feats[fold.train], t[fold.train], feats[fold.test], t[fold.test],
                                         seed=study.seed, n_boot=plan.bootstrap, target=target, units=unit)
                b.add({**_row(method, label, "PTB-XL", target, ev.label, "linear regression"),
                       "metric": f"MAE ({unit})", "ours": res.mae.mae, "sd": res.mae.sd,
                       "sd_over": "|error| over test records",
                       "ci_low": res.ci.low if res.ci else np.nan, "ci_high": res.ci.high if res.ci else np.nan,
                       "ci_over": "test records" if res.ci else "", "n_test": len(res.y_test),
                       "details": f"least-squares linear regression on frozen features, targets standardised on "
                                  f"train; records without a label dropped ({res.dropped['train']} train, "
                                  f"{res.dropped['test']} test); {ev.description}",
                       "paper_key": {"method": method, "dataset": "PTB-XL", "task": target, "metric": "MAE",
                                     "setting": ""}})
    if ludb_summary:
        for target, key, unit in (("heart rate", "heart_rate", "bpm"), ("QRS duration", "qrs_duration", "ms")):
            m = ludb_summary[key]
            b.add({**_row("label delineator", "neurokit2-based, no training", "LUDB", target,
                          "all records", "against cardiologists"),
                   "metric": f"MAE ({unit})", "ours": m.mae, "sd": m.sd, "sd_over": "|error| over records",
                   "n_test": ludb_summary["records"], "paper_key": None,
                   "details": f"our labels against expert annotations on {ludb_summary['records']} LUDB records at "
                              f"{ludb_summary['fs']} Hz; {ludb_summary[f'{key}_failures']} failures"})
    return b.result()


def table6_cropa(study: Study) -> TableResult:
    """CroPA ablation: linear and fine-tuned multi-class AUC on PTB-XL with and without CroPA (P-B Table 6)."""
    b = TableBuilder(study, "table6_cropa", "cropa_ablation")
    plan = study.profile.evaluation
    for base in (RB, MB):
        for cropa in (True, False):
            variant = base if cropa else without_cropa(base)
            enc, label = study.encoder(variant, pretrained_here=True), study.encoder_label(variant, pretrained_here=True)
            tag = "yes" if cropa else "no"
            feats = study.features(variant.key, enc, study.ptbxl)
            probe_rows(b, base.method, label, feats, study.ptbxl, MC, ablation=f"cropa={tag}",
                       paper={"setting": f"cropa={tag}, linear", "epochs": 100})
            finetune_rows(b, base.method, label, _finetune_maker(study, study.ptbxl, MC, enc), study.ptbxl, MC,
                          f"fine-tuned {plan.finetune_epochs} epochs (code recipe)", ablation=f"cropa={tag}",
                          paper={"setting": f"cropa={tag}, finetune", "epochs": 100}, only=plan.ablation_finetune_on)
    result = b.result()
    result.rows = result.rows[result.rows["metric"].str.startswith("AUC")].reset_index(drop=True)
    return result


def _ratio_text(kind: str, x: float) -> str:
    """The paper's spelling of a ratio: 0.3 for random masking, 0.10 / 0.175 for multi-block."""
    text = f"{x:g}"
    return text if kind == "random" or len(text.split(".")[1]) >= 2 else f"{x:.2f}"


def _probe_own_run(b: TableBuilder, variant: Variant, ablation: str) -> None:
    """Linear-probe rows (PTB-XL multi-label) of one of this study's pretraining runs, an ablation setting."""
    study = b.study
    feats = study.features(variant.key, study.encoder(variant, pretrained_here=True), study.ptbxl)
    probe_rows(b, variant.method, study.encoder_label(variant, pretrained_here=True), feats, study.ptbxl, ML,
               ablation=ablation, paper={"setting": ablation})


def table7_masking(study: Study) -> TableResult:
    """Masking strategy and ratio, PTB-XL multi-label linear (P-B Table 7)."""
    b = TableBuilder(study, "table7_masking", "masking")
    for kind, scale in study.profile.evaluation.mask_ratios:
        variant = masking_variant(kind, scale)
        freq = 1 if kind == "random" else variant.mask.n_blocks
        _probe_own_run(b, variant, f"ratio=({_ratio_text(kind, scale[0])}, {_ratio_text(kind, scale[1])}), freq={freq}")
    return b.result()


def table8_leads(study: Study) -> TableResult:
    """8-lead vs 12-lead ECG-JEPA_rb, PTB-XL multi-label linear (P-B Table 8)."""
    b = TableBuilder(study, "table8_leads", "leads_8_vs_12")
    for variant in (RB, RB_12_LEADS):
        _probe_own_run(b, variant, f"{variant.n_leads} leads")
    return b.result()
