"""The paper's eight result tables, computed by a :class:`Study` and set beside the paper's numbers.

Each ``tableN_*`` builder runs the protocol of docs/protocols.md for every row of that table that
this project can produce and returns a :class:`TableResult`: rows of the one schema of
``report.results`` and the test scores of every seed behind them.

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
from ecgjepa_core.evaluation.finetune_search import finetune_search
from ecgjepa_core.evaluation.recipes import FINETUNE_CODE, FinetuneRecipe
from ecgjepa_core.evaluation.resnet1d import low_shot_resnet1d
from ecgjepa_core.study.datasets import LabelledSet, cpsc_splits, ptbxl_splits
from ecgjepa_core.study.profiles import EvalPlan
from ecgjepa_core.report.results import (MC, ML, TASK, TableResult, TestScores, classification_cells,
                                        row_key, to_frame)
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.study.study import (MB, RB, RB_12_LEADS, RB_REAL_ONLY, Study, Variant, masking_variant,
                                      without_cropa)

REAL_ONLY = "real ECGs only"
# The protocol label of a linear probe on each readout of the tokens (``evaluation.readouts``): the paper's
# mean-pooling, and pooled statistics, which keep what the mean of position-dominated tokens averages away.
PROBE_PROTOCOL = {"mean": "linear", "stats": "linear, pooled statistics"}
RANDOM_RUNS = "initialisation seeds"  # what the runs of a random-init row are
ALL_LEADS = tuple(range(12))
CNN_TEXT = "4 residual stages, 32-128 channels, 100 Hz"


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

    def classification(self, key: dict, kind: str, scores: TestScores, classes: Sequence[str], details: str,
                       paper: dict | None, sd_over: str, runs_over: str = "pretraining seeds") -> None:
        """Rows of every metric of ``kind`` for one row key, from the seeds' test scores over ``classes`` (the
        dataset's class names)."""
        plan = self.study.profile.evaluation
        self.scores[row_key(key)] = scores
        for cell in classification_cells(kind, scores.y, scores.scores, len(classes), plan.bootstrap, self.study.seed,
                                         sd_over, scores.groups, runs_over, classes):
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


def over_runs(per_run: Sequence[TestScores]) -> TestScores:
    """The score sets of several pretraining runs (same records) as one row's, each set tagged with its run."""
    if len(per_run) == 1:
        return per_run[0]
    first = per_run[0]
    if any(not np.array_equal(s.rows, first.rows) for s in per_run):
        raise ValueError("pretraining runs of one row were scored on different records")
    groups = np.concatenate([np.full(len(s.scores), i) for i, s in enumerate(per_run)])
    return TestScores(first.y, np.concatenate([s.scores for s in per_run]), first.rows, groups)


def probe_rows(b: TableBuilder, method: str, encoder: str, features: np.ndarray | Sequence[np.ndarray],
               data: LabelledSet, kind: str, protocol: str = "linear", ablation: str = "",
               paper: dict | None = None, recipe: str | None = None, runs_over: str = "pretraining seeds") -> None:
    """Linear-probe rows (AUC, F1) of one encoder (or several pretraining runs of it: a list of (N, D) feature
    matrices) on one dataset and task, for every evaluation.

    ``recipe``: the probe recipe (default: the profile's); ``paper``: the paper cell's extra fields,
    None when the row has no published counterpart."""
    study = b.study
    recipe = recipe or study.profile.evaluation.probe_recipe
    n_classes = len(data.classes)
    runs = [features] if isinstance(features, np.ndarray) else list(features)
    for ev in evaluations(study, data):
        per_run = []
        for feats in runs:
            def run(fold, labels, seed, feats=feats):
                res = linear_probe(feats[fold.train], labels(fold.train), feats[fold.test], labels(fold.test),
                                   TASK[kind], recipe=recipe, seed=seed, n_boot=0, n_classes=n_classes)
                return res.y_test, res.test_scores
            per_run.append(pooled_scores(run, data, ev, kind, study.probe_seeds))
        scores = over_runs(per_run)
        pretraining = f"; {len(runs)} runs ({runs_over})" if len(runs) > 1 else ""
        details = (f"linear probe ({recipe} recipe, last epoch), {len(study.probe_seeds)} probe seeds{pretraining}; "
                   f"{ev.description}")
        b.classification(_row(method, encoder, data.name, kind, ev.label, protocol, ablation), kind, scores,
                         data.classes, details, paper, "probe seeds", runs_over)


def _encoders(study: Study, variants: Sequence[Variant], random_init: bool = True):
    """(method, feature key, encoder, encoder label) for each variant, plus the random-init baseline."""
    out = [(v.method, study.feature_key(v), study.encoder(v),
            study.encoder_label(v)) for v in variants]
    if random_init:
        out.append(("Random init", "random", study.random_encoder(), study.random_label))
    return out


def _with_readouts(study: Study, encoders: list) -> list:
    """Each item of ``encoders`` paired with every readout of the profile (``evaluation.readouts``)."""
    return [(item, readout) for item in encoders for readout in study.profile.evaluation.readouts]


def _seeded(study: Study, variants: Sequence[Variant], random_init: bool = True
            ) -> list[tuple[str, str, str, list[tuple[str, Encoder]]]]:
    """(method, ablation, encoder label, [(feature key, encoder)] over its pretraining runs) for each variant's
    main runs (``Study.main_runs``), plus the random-init baseline over as many initialisation seeds."""
    out = []
    for v in variants:
        runs = study.main_runs(v) if v in (RB, MB) else [v]
        encoders = [(study.feature_key(r), study.encoder(r)) for r in runs]
        out.append((v.method, REAL_ONLY if v == RB_REAL_ONLY else "", study.runs_label(runs), encoders))
    if random_init:
        seeds = study.random_seeds
        label = study.random_label if len(seeds) == 1 else (
            f"random init, seeds {'/'.join(map(str, seeds))} ({study.model_text})")
        out.append(("Random init", "", label, [(f"random-{s}", study.random_encoder(seed=s)) for s in seeds]))
    return out


def table1_linear(study: Study) -> TableResult:
    """Linear evaluation, multi-label and multi-class, PTB-XL and CPSC (P-B Table 1); the main rows pool their
    pretraining seeds (and the random init its initialisation seeds)."""
    b = TableBuilder(study, "table1_linear", "linear")
    variants = [RB, MB] + ([RB_REAL_ONLY] if study.profile.synthetic and study.can_pretrain else [])
    for method, ablation, label, encoders in _seeded(study, variants):
        runs_over = RANDOM_RUNS if method == "Random init" else "pretraining seeds"
        for data in (study.ptbxl, study.cpsc):
            for readout in study.profile.evaluation.readouts:
                paper = None if ablation or readout != "mean" else {}
                feats = [study.features(key, enc, data, readout=readout) for key, enc in encoders]
                for kind in (ML, MC):
                    probe_rows(b, method, label, feats, data, kind, protocol=PROBE_PROTOCOL[readout],
                               ablation=ablation, paper=paper, runs_over=runs_over)
        if study.profile.evaluation.probe_recipe != "code":  # the authors' recipe as published, for reference
            feats = [study.features(key, enc, study.ptbxl) for key, enc in encoders]
            for kind in (ML, MC):
                probe_rows(b, method, label, feats, study.ptbxl, kind,
                           protocol="linear, raw features (authors' probe)", ablation=ablation, paper=paper,
                           recipe="code", runs_over=runs_over)
    return b.result()


def finetune_recipe_of(study: Study) -> FinetuneRecipe:
    """The authors' fine-tuning recipe with the profile's batch size (and epochs where it is not searched)."""
    plan = study.profile.evaluation
    return dataclasses.replace(FINETUNE_CODE, epochs=plan.finetune_epochs, batch_size=plan.finetune_batch)


SEARCHED, AUTHORS_LR = "fine-tuned, lr searched on validation", "fine-tuned, authors' lr"


def _finetune_kwargs(study: Study, data: LabelledSet) -> dict:
    """What every fine-tuning run of a table shares: the dataset's head size, the study's device and progress, the
    profile's loss weighting, no per-run bootstrap (the table's rows resample the pooled scores)."""
    return dict(n_boot=0, n_classes=len(data.classes), device=study.device, progress=study.progress,
                class_weights=study.profile.evaluation.finetune_class_weights)


def _finetune_search_maker(study: Study, data: LabelledSet, kind: str, encoder: Encoder, kept: dict):
    """``make(fold, labels, seed, select)``: for the study seed, :func:`finetune_search` of ``encoder`` over the
    profile's learning rates and the authors' (the base recipe's) lr, the run of the authors' lr kept in
    ``kept[fold]`` for its own row; for every further fine-tuning seed, one run at the lr that search chose on that
    fold (same early stopping)."""
    plan = study.profile.evaluation
    base = finetune_recipe_of(study)
    chosen: dict[bytes, float] = {}

    def make(fold, labels, seed, select):
        if select != "val":
            raise ValueError(f"the fine-tuning search needs a validation fold; {data.name} has none in this split")
        args = (encoder, data.x(fold.train), labels(fold.train), data.x(fold.val), labels(fold.val),
                data.x(fold.test), labels(fold.test), TASK[kind])
        common = dict(max_epochs=plan.finetune_epochs, patience=plan.finetune_patience, base=base, seed=seed,
                      **_finetune_kwargs(study, data))
        fold_id = fold.test.tobytes()
        if seed == study.seed:
            result = finetune_search(*args, lrs=_search_lrs(plan, base), **common)
            if plan.finetune_authors_lr:
                kept[fold_id] = result.protocol["runs"][base.lr]
            chosen[fold_id] = result.protocol["chosen_lr"]
            return result
        return finetune_search(*args, lrs=(chosen[fold_id],), **common)
    return make


def _search_lrs(plan: EvalPlan, base: FinetuneRecipe) -> tuple[float, ...]:
    """The fine-tuning search's grid: the authors' lr (where the profile runs it) and ``evaluation.finetune_lrs``."""
    return (base.lr, *plan.finetune_lrs) if plan.finetune_authors_lr else tuple(plan.finetune_lrs)


def _search_rows(b: TableBuilder, method: str, label: str, data: LabelledSet, kind: str, encoder: Encoder,
                 ablation: str = "", paper: dict | None = None, only: tuple[str, ...] | None = None,
                 authors_row: bool = True) -> None:
    """Rows of the fine-tuning search (the chosen lr) and, beside them, of the authors' lr from the same search."""
    plan = b.study.profile.evaluation
    base = finetune_recipe_of(b.study)
    kept: dict = {}
    grid = ", ".join(f"{lr:g}" for lr in _search_lrs(plan, base))
    authors = (f" (the first is the authors' 1e-4 x {base.batch_size}/256)" if plan.finetune_authors_lr else
               f" (not the authors' {base.lr:g})")
    rule = (f"AdamW lr from {{{grid}}}{authors}, at most "
            f"{plan.finetune_epochs} epochs, early stopping after {plan.finetune_patience} epoch(s) without a better "
            "validation AUC, warm-up 1 epoch; code recipe otherwise (0.67-40 Hz filters, RandAugment)")
    seeds = tuple(b.study.seed + s for s in range(plan.finetune_seeds))
    more = (f"; fine-tuning seeds {'/'.join(map(str, seeds))}: the search on seed {seeds[0]}, each further seed one run "
            "at the lr it chose") if len(seeds) > 1 else ""
    finetune_rows(b, method, label, _finetune_search_maker(b.study, data, kind, encoder, kept), data, kind,
                  f"{rule}; the run and epoch with the best validation value{more}", ablation, paper, only,
                  protocol=SEARCHED, seeds=seeds)
    if authors_row and kept:
        def authors(fold, labels, seed, select):
            return kept[fold.test.tobytes()]
        finetune_rows(b, method, label, authors, data, kind,
                      f"the authors' lr {base.lr:g} from the same search ({plan.finetune_epochs} epochs at most, "
                      f"warm-up 1 epoch, not their 10 epochs with 3 of warm-up)", ablation, None, only,
                      protocol=AUTHORS_LR)


def _finetune_maker(study: Study, data: LabelledSet, kind: str, encoder=None):
    """``make(fold, labels, seed, select) -> ClassificationResult``: fine-tune ``encoder`` with the authors' recipe."""
    def make(fold, labels, seed, select):
        val = dict(val_x=data.x(fold.val), val_y=labels(fold.val)) if select == "val" else {}
        return finetune(encoder, data.x(fold.train), labels(fold.train), data.x(fold.test), labels(fold.test),
                        task=TASK[kind], select=select, seed=seed, recipe=finetune_recipe_of(study),
                        **_finetune_kwargs(study, data), **val)
    return make


def finetune_rows(b: TableBuilder, method: str, encoder: str, make_result: Callable, data: LabelledSet, kind: str,
                  details: str, ablation: str = "", paper: dict | None = None,
                  only: tuple[str, ...] | None = None, protocol: str = "fine-tuned",
                  seeds: tuple[int, ...] | None = None) -> None:
    """Fine-tuning rows over fine-tuning ``seeds`` (default: the study seed alone); a split with a validation fold
    selects the epoch on it.

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
        seeds = seeds or (study.seed,)
        scores = pooled_scores(run, data, ev, kind, seeds)
        rule = "epoch chosen on the validation fold" if select == "val" else "last epoch"
        weighted = ("; loss weighted by inverse training class frequency (not the authors')"
                    if study.profile.evaluation.finetune_class_weights == "balanced" else "")
        b.classification(_row(method, encoder, data.name, kind, ev.label, protocol, ablation), kind, scores,
                         data.classes, f"{details}{weighted}; batch {study.profile.evaluation.finetune_batch}; {rule}; "
                                       f"{len(seeds)} seed(s); {ev.description}", paper,
                         "fine-tuning seeds" if len(seeds) > 1 else "")


def table2_finetune(study: Study) -> TableResult:
    """Fine-tuning, multi-class (P-B Table 2): rb, mb (their first pretraining run) and the same encoder trained
    from scratch ("Supervised"). Where a split has a validation fold, each goes through the same search of the
    fine-tuning lr, with the authors' lr from that search beside it; elsewhere the authors' recipe runs as
    published (the supervised baseline for ``evaluation.supervised_epochs``)."""
    b = TableBuilder(study, "table2_finetune", "finetune")
    plan = study.profile.evaluation
    tuned = f"fine-tuned {plan.finetune_epochs} epochs (code recipe: 0.67-40 Hz filters, RandAugment)"
    scratch = f"trained from scratch (random init, seed {study.seed}; {study.model_text})"
    for data in (study.ptbxl, study.cpsc):
        chosen = [ev for ev in evaluations(study, data) if plan.finetune_on is None or ev.label in plan.finetune_on]
        searched = tuple(ev.label for ev in chosen if all(len(f.val) for f in ev.folds))
        fixed = tuple(ev.label for ev in chosen if ev.label not in searched)
        rows = [(v.method, study.encoder_label(v), study.encoder(v)) for v in (RB, MB)]
        for method, label, enc in rows + [("Supervised", scratch, study.random_encoder())]:
            if searched:
                _search_rows(b, method, label, data, MC, enc, paper={}, only=searched)
            if fixed and method != "Supervised":
                finetune_rows(b, method, label, _finetune_maker(study, data, MC, enc), data, MC, tuned, paper={},
                              only=fixed)
        if fixed:
            finetune_rows(b, "Supervised", scratch, _scratch_maker(study, data, MC), data, MC,
                          f"trained from scratch, {plan.supervised_epochs} epochs (code recipe)", paper={}, only=fixed)
    return b.result()


def _scratch_maker(study: Study, data: LabelledSet, kind: str):
    """``make(fold, labels, seed, select)``: the encoder trained from scratch with the authors' recipe for
    ``evaluation.supervised_epochs`` (the "Supervised" row where no search runs)."""
    def make(fold, labels, seed, select):
        val = dict(val_x=data.x(fold.val), val_y=labels(fold.val)) if select == "val" else {}
        return supervised_from_scratch(study.profile.model, data.x(fold.train), labels(fold.train), data.x(fold.test),
                                       labels(fold.test), TASK[kind], epochs=study.profile.evaluation.supervised_epochs,
                                       recipe=finetune_recipe_of(study), select=select, seed=seed,
                                       **_finetune_kwargs(study, data), **val)
    return make


def table3_low_shot(study: Study) -> TableResult:
    """Low-shot linear evaluation, PTB-XL multi-label (P-B Table 3): mean ± sd over draws."""
    b = TableBuilder(study, "table3_low_shot", "low_shot")
    plan = study.profile.evaluation
    for (method, key, enc, label), readout in _with_readouts(study, _encoders(study, [RB, MB])):
        feats = study.features(key, enc, study.ptbxl, readout=readout)
        for ev in evaluations(study, study.ptbxl):
            fold, labels = task_fold(study.ptbxl, ev.folds[0], ML)
            for fraction in plan.low_shot:
                pct = f"{fraction:.0%}"
                n = low_shot_size(len(fold.train), fraction)
                key_ = _row(method, label, "PTB-XL", ML, ev.label, f"{PROBE_PROTOCOL[readout]}, low-shot",
                            f"{pct} of training labels")
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
                                     "setting": pct} if readout == "mean" else None})
    _low_shot_cnn_rows(b)
    return b.result()


CNN = "1-D ResNet (from scratch)"


def _low_shot_cnn_rows(b: TableBuilder) -> None:
    """Table 3's reference: the 1-D ResNet trained from scratch on the same draws of the same training labels
    (12 leads at 100 Hz, its last epoch), where self-supervision has to earn its keep."""
    study, plan = b.study, b.study.profile.evaluation
    data = study.ptbxl
    for ev in evaluations(study, data):
        fold, labels = task_fold(data, ev.folds[0], ML)
        x_train, x_test = data.x(fold.train, ALL_LEADS), data.x(fold.test, ALL_LEADS)
        for fraction in plan.low_shot:
            pct = f"{fraction:.0%}"
            if low_shot_size(len(fold.train), fraction) < 2:
                continue
            res = low_shot_resnet1d(x_train, labels(fold.train), x_test, labels(fold.test), "multilabel", fraction,
                                    n_draws=plan.low_shot_draws, seed=study.seed, n_boot=0)
            b.add({**_row(CNN, f"{CNN_TEXT}, 12 leads", "PTB-XL", ML, ev.label, "trained from scratch, low-shot",
                          f"{pct} of training labels"),
                   "metric": "AUC", "ours": res.mean["auc"], "sd": res.sd["auc"], "sd_over": "draws",
                   "n_runs": plan.low_shot_draws, "n_test": len(fold.test), "paper_key": None,
                   "details": f"the same {plan.low_shot_draws} draws of {res.n_per_draw} training records as the "
                              f"probes; AdamW one-cycle, at least 100 steps, last epoch; mean ± population sd over "
                              f"draws; {ev.description}"})


REDUCED_LEADS = (("II", (1,)), ("II+V1", (1, 2)))


def table4_reduced_leads(study: Study) -> TableResult:
    """Linear evaluation from lead II and from II + V1, PTB-XL multi-label (P-B Table 4)."""
    b = TableBuilder(study, "table4_reduced_leads", "reduced_leads")
    for (method, key, enc, label), readout in _with_readouts(study, _encoders(study, [RB, MB])):
        for name, leads in REDUCED_LEADS:
            feats = study.features(key, enc, study.ptbxl, leads=leads, readout=readout)
            probe_rows(b, method, label, feats, study.ptbxl, ML, protocol=PROBE_PROTOCOL[readout],
                       ablation=f"leads {name}", paper={"setting": name} if readout == "mean" else None)
    return b.result()


def table5_ecg_features(study: Study, labels, ludb_summary: dict | None = None) -> TableResult:
    """Heart rate and QRS duration regressed on frozen features, PTB-XL (P-B Table 5), beside a constant predictor
    (the training mean: what the features must beat) and the delineator's own error.

    ``labels``: one row per PTB-XL record (``heart_rate``, ``qrs_duration``) from ``ecg_features``.
    ``ludb_summary``: the delineator's own error on LUDB, shown as its own row (the floor).
    Every row keeps its test predictions (``scores/table5_ecg_features.npz``: targets, predictions, rows).
    """
    b = TableBuilder(study, "table5_ecg_features", "feature_regression")
    plan = study.profile.evaluation
    constant = ("Constant (training mean)", "constant", None, "no features: the training records' mean")
    encoders = _with_readouts(study, _encoders(study, [RB, MB])) + [(constant, "mean")]
    for (method, key, enc, label), readout in encoders:
        n = len(study.ptbxl.records)
        feats = np.zeros((n, 1), np.float32) if enc is None else study.features(key, enc, study.ptbxl, readout=readout)
        protocol = ("predict the training mean" if enc is None else
                    "linear regression" + ("" if readout == "mean" else ", pooled statistics"))
        for ev in evaluations(study, study.ptbxl):
            fold = ev.folds[0]
            for target, unit in (("heart rate", "bpm"), ("QRS duration", "ms")):
                col = "heart_rate" if target == "heart rate" else "qrs_duration"
                t = labels[col].to_numpy(dtype=float)
                res = feature_regression(feats[fold.train], t[fold.train], feats[fold.test], t[fold.test],
                                         seed=study.seed, n_boot=plan.bootstrap, target=target, units=unit)
                key_ = _row(method, label, "PTB-XL", target, ev.label, protocol)
                kept = fold.test[np.isfinite(t[fold.test])]
                b.scores[row_key(key_)] = TestScores(res.y_test, res.pred_test[None, :, None], kept)
                b.add({**key_,
                       "metric": f"MAE ({unit})", "ours": res.mae.mae, "sd": res.mae.sd,
                       "sd_over": "|error| over test records",
                       "ci_low": res.ci.low if res.ci else np.nan, "ci_high": res.ci.high if res.ci else np.nan,
                       "ci_over": "test records" if res.ci else "", "n_test": len(res.y_test),
                       "details": f"least-squares linear regression on frozen features, targets standardised on "
                                  f"train; records without a label dropped ({res.dropped['train']} train, "
                                  f"{res.dropped['test']} test); {ev.description}",
                       "paper_key": {"method": method, "dataset": "PTB-XL", "task": target, "metric": "MAE",
                                     "setting": ""} if readout == "mean" and enc is not None else None})
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
    """CroPA ablation: linear and fine-tuned multi-class AUC on PTB-XL with and without CroPA (P-B Table 6); the
    linear rows pool the ablation's pretraining seeds, the fine-tuned rows fine-tune the first."""
    b = TableBuilder(study, "table6_cropa", "cropa_ablation")
    plan = study.profile.evaluation
    for base in (RB, MB):
        for cropa in (True, False):
            runs = study.ablation_runs(base if cropa else without_cropa(base))
            label = study.runs_label(runs, pretrained_here=True)
            encoders = [study.encoder(r, pretrained_here=True) for r in runs]
            tag = "yes" if cropa else "no"
            feats = [study.features(study.run_key(r), enc, study.ptbxl) for r, enc in zip(runs, encoders)]
            probe_rows(b, base.method, label, feats, study.ptbxl, MC, ablation=f"cropa={tag}",
                       paper={"setting": f"cropa={tag}, linear", "epochs": 100})
            finetune_rows(b, base.method, label, _finetune_maker(study, study.ptbxl, MC, encoders[0]), study.ptbxl,
                          MC, f"fine-tuned {plan.finetune_epochs} epochs (code recipe), first pretraining seed",
                          ablation=f"cropa={tag}", paper={"setting": f"cropa={tag}, finetune", "epochs": 100},
                          only=plan.ablation_finetune_on)
    result = b.result()
    result.rows = result.rows[result.rows["metric"].str.startswith("AUC")].reset_index(drop=True)
    return result


def _ratio_text(kind: str, x: float) -> str:
    """The paper's spelling of a ratio: 0.3 for random masking, 0.10 / 0.175 for multi-block."""
    text = f"{x:g}"
    return text if kind == "random" or len(text.split(".")[1]) >= 2 else f"{x:.2f}"


def _probe_own_runs(b: TableBuilder, variant: Variant, ablation: str) -> None:
    """Linear-probe rows (PTB-XL multi-label) of an ablation setting: this study's pretraining runs of ``variant``
    at the ablations' length, over the ablations' pretraining seeds."""
    study = b.study
    runs = study.ablation_runs(variant)
    feats = [study.features(study.run_key(r), study.encoder(r, pretrained_here=True), study.ptbxl) for r in runs]
    probe_rows(b, variant.method, study.runs_label(runs, pretrained_here=True), feats, study.ptbxl, ML,
               ablation=ablation, paper={"setting": ablation})


def table7_masking(study: Study) -> TableResult:
    """Masking strategy and ratio, PTB-XL multi-label linear (P-B Table 7)."""
    b = TableBuilder(study, "table7_masking", "masking")
    for kind, scale in study.profile.evaluation.mask_ratios:
        variant = masking_variant(kind, scale)
        freq = 1 if kind == "random" else variant.mask.n_blocks
        _probe_own_runs(b, variant, f"ratio=({_ratio_text(kind, scale[0])}, {_ratio_text(kind, scale[1])}), "
                                    f"freq={freq}")
    return b.result()


def table8_leads(study: Study) -> TableResult:
    """8-lead vs 12-lead ECG-JEPA_rb, PTB-XL multi-label linear (P-B Table 8)."""
    b = TableBuilder(study, "table8_leads", "leads_8_vs_12")
    for variant in (RB, RB_12_LEADS):
        _probe_own_runs(b, variant, f"{variant.n_leads} leads")
    return b.result()
