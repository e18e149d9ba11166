"""Table 9: Kim's and Weimann & Conrad's ECG-JEPA side by side, at equal pretraining compute.

Rows: Kim's mb and rb, Weimann & Conrad's model (pretrained here on the same corpus for the same
epochs and batch, at a size whose training step costs what Kim's mb step costs; or their files,
``-p encoders weimann=…``), and a random initialisation of each family. Every encoder is evaluated
by both probes on the same PTB-XL split (their folds 1–8 train, 9 validation, 10 test), label sets and
test records, over the study's probe seeds, and every row keeps its test scores so that claims pair them
(a label set whose test fold admits no AUC, as on the shipped sample, is left out):

* **mean-pool linear**: the linear probe of Tables 1–8 on the mean of the encoder's output tokens over
  the whole 10 s record (Kim: all lead × time tokens, 8 leads at 250 Hz; Weimann: the patch tokens,
  registers dropped, 12 leads FFT-resampled to 500 Hz);
* **attentive**: their frozen attentive probe (``evaluation.attentive_probe``), the head tested at the
  step with the best validation AUC on fold 9. Weimann: register and patch tokens of 2.5 s crops every
  1.25 s, logits averaged over the 7 crops (their ``finetune.py``); Kim's encoder takes whole records
  only, so its probe reads all tokens of the record (one "crop").

The row's ``ablation`` names the label set ("superdiagnostic", "ST-MEM", "all", …), its ``protocol``
the probe. Both papers' numbers stand beside ours where the setting matches (the row's
``details`` say where it does not): Kim's Table 1 (mean-pool linear, superdiagnostic multi-label and
single-label) and Weimann & Conrad's attentive probe (all statements, single-label superdiagnostic).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ecgjepa_core.data.ptbxl_tasks import PTBXLTask, database_task, subset_task
from ecgjepa_core.data.splits import ptbxl_standard_split
from ecgjepa_core.evaluation import linear_probe
from ecgjepa_core.evaluation.attentive_probe import (WEIMANN_PROBE, AttentiveProbeRecipe, TokenRows, attentive_probe,
                                                      crop_tokens)
from ecgjepa_core.evaluation.crops import STRIDE_SECONDS, crop_samples
from ecgjepa_core.evaluation.readouts import token_readouts
from ecgjepa_core.evaluation.scoring import headline_metric
from ecgjepa_core.study import weimann_family
from ecgjepa_core.study.datasets import LabelledSet
from ecgjepa_core.study.profiles import LEADS_8_OF_12, WeimannPlan
from ecgjepa_core.report.results import MC, ML, TASK, TableResult, TestScores, classification_cells, row_key, to_frame
from ecgjepa_core.study.diagnostics import diagnostics_row as _diagnostics_row
from ecgjepa_core.study.study import MB, RB, WEIMANN, Study
from ecgjepa_core.study.tables import TableBuilder, over_runs

NAME = "table9_kim_vs_weimann"
PAPER_TABLE = "weimann"
LINEAR, STATS, ATTENTIVE = "mean-pool linear", "pooled-statistics linear", "attentive"
PROTOCOLS = (LINEAR, STATS, ATTENTIVE)
BEST = "best readout"  # the protocol of PROTOCOLS with the best validation AUC, per row
DIAGNOSTICS = "representation_diagnostics"
RANDOM_KIM, RANDOM_WEIMANN = "Random init (Kim)", "Random init (Weimann)"
KIM_METHODS = (MB.method, RB.method)
# Our Weimann rows against their smallest model pretrained on PTB-XL alone, the setting nearest ours.
WEIMANN_PAPER_METHOD = {WEIMANN.method: "ViT-XS, JEPA (PTB-XL folds 1-8)", RANDOM_WEIMANN: "ViT-XS, random init"}


@dataclass(frozen=True)
class LabelSet:
    """One PTB-XL label set over the dataset's rows: ``rows`` (n,) labelled rows, ``y`` their targets
    ((n, K) multi-hot or (n,) class indices), ``kind`` ML / MC."""

    name: str
    kind: str
    rows: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    description: str


def label_sets(study: Study, data: LabelledSet, names: tuple[str, ...]) -> list[LabelSet]:
    """The label sets ``names`` that the profile's PTB-XL source has. "superdiagnostic" and "ST-MEM" are the
    labels of Tables 1–8 (all records, and the single-label ones: Kim's multi-class task); the others come
    from the statements (``data.ptbxl_tasks``) where the source provides them."""
    everything = np.arange(len(data.records))
    single = data.single_label(everything)
    out = []
    for name in names:
        if name == "superdiagnostic":
            out.append(LabelSet(name, ML, everything, data.y, data.classes,
                                "PTB-XL superclasses, multi-label (the labels of Tables 1-8)"))
        elif name == "ST-MEM":
            out.append(LabelSet(name, MC, single, data.y[single].argmax(1), data.classes,
                                "single-label superdiagnostic records, multi-class (Kim's and ST-MEM's task)"))
        elif (task := _statement_task(study, name)) is not None:
            out.append(_on_rows(task, data))
    return out


def _statement_task(study: Study, name: str) -> PTBXLTask | None:
    source = study.profile.ptbxl
    folder = study.profile.path(source)
    if source.reader == "ptbxl" and (folder / "ptbxl_database.csv").is_file():
        return database_task(folder, name)
    if source.reader == "arrays" and (folder / "statements.csv").is_file():
        return subset_task(folder, name)
    return None


def _on_rows(task: PTBXLTask, data: LabelledSet) -> LabelSet:
    """``task`` (indexed by ecg_id) on the rows of ``data``; records the cache lacks are left out."""
    where = pd.Series(np.arange(len(data.records)), index=data.records["record_id"].astype(str))
    ids = pd.Series(task.ecg_ids).astype(str)
    present = ids.isin(where.index).to_numpy()
    kind = MC if task.kind == "multiclass" else ML
    return LabelSet(task.name, kind, where.loc[ids[present]].to_numpy(), task.y[present], task.classes,
                    f"PTB-XL '{task.name}' statements ({len(task.classes)} classes), "
                    f"{'multi-class' if kind == MC else 'multi-label'}")


@dataclass(frozen=True)
class Parts:
    """Positions into a label set's rows: train, validation and test records."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def split_parts(data: LabelledSet, labels: LabelSet) -> tuple[Parts, str]:
    """The standard PTB-XL split (folds 1–8 / 9 / 10) restricted to the label set, and its description."""
    split = ptbxl_standard_split(data.records)
    position = {row: i for i, row in enumerate(labels.rows)}
    parts = [np.array([position[r] for r in data.rows(ids) if r in position], dtype=np.int64)
             for ids in (split.train, split.val, split.test)]
    return Parts(*parts), split.description


@dataclass
class Probed:
    """One encoder run as the probes see it: its pooled readouts (readout -> (N, F)), the tokens of the attentive
    probe (N, n crops, S, D), the share of its token variance that position explains, and its mean-pooled features."""

    method: str
    label: str
    readouts: dict[str, np.ndarray]
    tokens: torch.Tensor
    num_heads: int
    inputs: str       # the input in words, for the details
    position_share: float
    run: str          # the run key (diagnostics)


def _training_rows(study: Study, data: LabelledSet) -> np.ndarray:
    return data.rows(ptbxl_standard_split(data.records).train)


def _kim(study: Study, method: str, run: str, encoder, label: str, data: LabelledSet) -> Probed:
    n_leads = encoder.cfg.n_leads
    leads = LEADS_8_OF_12 if n_leads == 8 else tuple(range(12))
    x = data.x(np.arange(len(data.records)), leads)
    device = torch.device(study.device)
    encoder = encoder.to(device).eval()
    out = token_readouts(lambda b: encoder(b.to(device)), x, keep_tokens=True,
                         position_rows=_training_rows(study, data), progress=study.progress)
    tokens = out.pop("tokens")[:, None]  # one "crop": the whole record
    share = out.pop("position_share")
    return Probed(method, label, out, tokens, encoder.cfg.num_heads,
                  f"{n_leads} leads at 250 Hz, whole 10 s records; attentive probe over all {tokens.shape[2]} "
                  "lead x time tokens", share, run)


def _weimann(study: Study, method: str, run: str, encoder, label: str, x: np.ndarray) -> Probed:
    cfg = encoder.cfg
    device = torch.device(study.device)
    encoder = encoder.to(device).eval()
    size, stride = crop_samples(cfg.sampling_frequency), crop_samples(cfg.sampling_frequency, STRIDE_SECONDS)
    tokens = crop_tokens(lambda b: encoder(b.to(device), with_registers=True).cpu(), x, size, stride)
    out = token_readouts(lambda b: encoder(b.to(device)), x, position_rows=_training_rows(study, study.ptbxl),
                         progress=study.progress)
    share = out.pop("position_share")
    return Probed(method, label, out, tokens, cfg.num_heads,
                  f"12 leads FFT-resampled from 250 to {cfg.sampling_frequency} Hz; pooled readouts over the patch "
                  f"tokens of the whole record; attentive probe over register + patch tokens of {tokens.shape[1]} "
                  f"crops of {size} samples every {stride}, logits averaged", share, run)


def _paper(method: str, labels: LabelSet, probe: str) -> Callable[[str], tuple[str | None, dict | None]]:
    """metric label -> (paper table, cell) of the row's published counterpart, or (None, None)."""
    def cell(metric: str) -> tuple[str | None, dict | None]:
        if method in KIM_METHODS and probe == LINEAR and labels.name in ("superdiagnostic", "ST-MEM"):
            return "linear", {"method": method, "dataset": "PTB-XL", "task": labels.kind,
                              "metric": metric.split(" (")[0], "setting": ""}
        theirs = WEIMANN_PAPER_METHOD.get(method)
        if theirs and probe == ATTENTIVE and metric in ("AUC", "AUC (one-vs-rest)"):
            return PAPER_TABLE, {"method": theirs, "dataset": "PTB-XL", "task": labels.name, "metric": "AUC",
                                 "setting": "attentive probe"}
        return None, None
    return cell


def _paper_note(method: str, probe: str) -> str:
    if method in KIM_METHODS and probe == LINEAR:
        return ("paper: Kim P-B Table 1 (768-wide encoder, 100 epochs on ~174k ECGs; PTB-XL folds 1-9 train / 10 "
                "test, where this table trains on folds 1-8)")
    if method in WEIMANN_PAPER_METHOD and probe == ATTENTIVE:
        return ("paper: Weimann & Conrad, ViT-XS pretrained 100k steps of 2,048 on PTB-XL folds 1-8 (or not at all "
                "for random init), mean of 10 runs; 'all' and 'ST-MEM' labels only")
    return "no published counterpart"


def _scores(run: Callable[[Parts, int], np.ndarray], labels: LabelSet, parts: Parts,
            seeds: tuple[int, ...]) -> TestScores:
    return TestScores(labels.y[parts.test], np.stack([run(parts, s) for s in seeds]), labels.rows[parts.test])


def _scorable(kind: str, y: np.ndarray) -> bool:
    """Whether a macro AUC is defined on these targets: a class with positives and negatives (multi-label),
    two classes present (multi-class)."""
    if kind == ML:
        return bool(len(y) and ((y.sum(0) > 0) & (y.sum(0) < len(y))).any())
    return len(np.unique(y)) > 1


def _val(result, key: str) -> float:
    """The validation headline metric of a result at its selected epoch/step (the last for a linear probe)."""
    epoch = result.selected_epoch if isinstance(result.selected_epoch, int) else max(r["epoch"] for r in result.curve)
    return float(next(r[f"val_{key}"] for r in result.curve if r["epoch"] == epoch))


@dataclass
class Probe:
    """One protocol on one encoder run and label set: test scores over probe seeds, their mean validation value."""

    scores: TestScores
    val: float
    details: str


def _probe_scores(study: Study, enc: Probed, labels: LabelSet, recipe: AttentiveProbeRecipe) -> dict[str, Probe]:
    """protocol -> :class:`Probe` of one encoder run on one label set; empty where this split cannot evaluate the
    label set (a fold without its records, or no AUC on the test fold)."""
    parts, split_text = split_parts(study.ptbxl, labels)
    y, task, n_classes = labels.y, TASK[labels.kind], len(labels.classes)
    if min(len(parts.train), len(parts.val)) == 0 or not _scorable(labels.kind, y[parts.test]):
        return {}
    plan = study.profile.evaluation
    key = headline_metric(task)

    def linear(readout: str):
        feats = enc.readouts[readout][labels.rows]

        def run(p: Parts, seed: int):
            return linear_probe(feats[p.train], y[p.train], feats[p.test], y[p.test], task, recipe=plan.probe_recipe,
                                seed=seed, n_boot=0, n_classes=n_classes, val_x=feats[p.val], val_y=y[p.val])
        return run

    def attentive(p: Parts, seed: int):
        train, val, test = (TokenRows(enc.tokens, labels.rows[part]) for part in (p.train, p.val, p.test))
        return attentive_probe(train, y[p.train], val, y[p.val], test, y[p.test], task,
                               enc.num_heads, recipe=recipe, seed=seed, n_classes=n_classes, n_boot=0)

    probes = {LINEAR: (linear("mean"), study.probe_seeds,
                       f"linear probe on mean-pooled tokens ({plan.probe_recipe} recipe, last epoch)"),
              STATS: (linear("stats"), study.probe_seeds,
                      f"linear probe on pooled statistics of the tokens (mean, max and sd of every dimension; "
                      f"{plan.probe_recipe} recipe, last epoch)"),
              ATTENTIVE: (attentive, study.probe_seeds[:recipe_seeds(study)],
                          f"frozen attentive probe, {recipe.steps} steps of {recipe.batch_size}, lr "
                          f"{recipe.lr} constant, wd {recipe.weight_decay}, tested at the step with the "
                          f"best fold-9 AUC (of every {recipe.eval_every})")}
    out = {}
    for probe, (run, seeds, text) in probes.items():
        results = [run(parts, seed) for seed in seeds]
        out[probe] = Probe(TestScores(y[parts.test], np.stack([r.test_scores for r in results]),
                                      labels.rows[parts.test]),
                           float(np.mean([_val(r, key) for r in results])),
                           f"{text}, {len(seeds)} probe seeds; {enc.inputs}; labels: {labels.description}; "
                           f"{split_text}; {_paper_note(enc.method, probe)}")
    return out


def recipe_seeds(study: Study) -> int:
    """Probe seeds of the attentive probe (the profile's ``weimann.attentive_seeds``, else all probe seeds)."""
    plan = study.profile.weimann
    return len(study.probe_seeds) if plan is None or plan.attentive_seeds is None else plan.attentive_seeds


def _add_rows(b: TableBuilder, method: str, label: str, labels: LabelSet, probe: str, runs: list[Probe],
              details: str = "") -> None:
    """The rows of one encoder (over its pretraining runs) on one label set and probe."""
    study = b.study
    scores = over_runs([r.scores for r in runs])
    details = details or runs[0].details
    details += f"; {len(runs)} runs ({_runs_over(method)}), CI nested over them" if len(runs) > 1 else ""
    key = dict(method=method, encoder=label, dataset=study.ptbxl.name, task=labels.kind,
               split="standard split", protocol=probe, ablation=labels.name)
    b.scores[row_key(key)] = scores
    paper = _paper(method, labels, probe)
    for cell in classification_cells(labels.kind, scores.y, scores.scores, len(labels.classes),
                                     study.profile.evaluation.bootstrap, study.seed, "probe seeds", scores.groups,
                                     _runs_over(method), labels.classes):
        table, fields = paper(cell["metric"])
        b.add({**key, **cell, "details": details, "paper_table": table, "paper_key": fields})


def _runs_over(method: str) -> str:
    return "initialisation seeds" if method.startswith("Random init") else "pretraining seeds"


def best_readout(per_protocol: dict[str, list[Probe]]) -> tuple[str, str]:
    """(protocol, sentence) of the readout with the best validation value, mean over the row's runs (ties: the
    first in :data:`PROTOCOLS` order); the sentence lists every readout's validation value."""
    vals = {p: float(np.mean([r.val for r in per_protocol[p]])) for p in PROTOCOLS if p in per_protocol}
    chosen = max(vals, key=vals.get)
    listed = ", ".join(f"{p} {v:.3f}" for p, v in vals.items())
    return chosen, f"readout chosen on validation fold 9 (AUC: {listed}): {chosen}"


def _recipe_and_tasks(study: Study) -> tuple[AttentiveProbeRecipe, tuple[str, ...]]:
    plan = study.profile.weimann
    if plan is None:
        return WEIMANN_PROBE, WeimannPlan.tasks
    return AttentiveProbeRecipe(steps=plan.probe_steps, batch_size=plan.probe_batch,
                                eval_every=plan.probe_eval_every), plan.tasks


def has_weimann(study: Study) -> bool:
    """Whether the Weimann row can be made: a given file, or a plan to pretrain it here."""
    return study.given(WEIMANN) is not None or (study.can_pretrain and study.profile.weimann is not None)


@dataclass
class Row:
    """One encoder row of the table: its method name, encoder label, and a maker per run (pretraining or
    initialisation seed); ``variants`` the pretraining runs behind it (for the diagnostics), None for random init."""

    method: str
    label: str
    makes: list[Callable[[], Probed]]
    variants: list | None = None


def paper_recipe_method(method: str) -> str:
    return f"{method} (paper's recipe)"


def shortcut_method(targets: str) -> str:
    """The row name of rb with position-free targets (``Variant.targets``)."""
    return f"{RB.method} ({targets} targets; not in the paper)"


def rows_of(study: Study, data: LabelledSet) -> list[Row]:
    """Every encoder row: Kim mb and rb and Weimann (all pretraining seeds), a random init of each family (as
    many initialisation seeds), and where this study pretrains, each method with its paper's recipe and rb with
    position-centred targets (one run each). Each run is made only when probed, so that one encoder's tokens are
    held at a time."""
    def kim(method, variants):
        return Row(method, study.runs_label(variants), [
            lambda r=r: _kim(study, method, study.feature_key(r),
                             study.encoder(r), study.encoder_label(r), data) for r in variants], variants)
    def extra_name(v):
        return shortcut_method(v.targets) if v.targets != "paper" else paper_recipe_method(v.method)
    rows = [kim(v.method, study.main_runs(v)) for v in (MB, RB)]
    seeds = study.random_seeds
    kim_random = f"random init, seeds {'/'.join(map(str, seeds))} ({study.model_text})"
    rows.append(Row(RANDOM_KIM, kim_random, [
        lambda s=s: _kim(study, RANDOM_KIM, f"random-{s}", study.random_encoder(seed=s), kim_random, data)
        for s in seeds]))
    rows += [kim(extra_name(e), [e]) for v in (MB, RB) for e in study.extra_runs(v)]
    if not has_weimann(study):
        return rows
    runs = study.main_runs(WEIMANN)
    cfg = study.encoder(runs[0]).cfg
    x = study.inputs(WEIMANN, data) if study.given(WEIMANN) is None else weimann_family.upsampled(
        data.x(np.arange(len(data.records)), weimann_family.leads_of(cfg)), weimann_family.n_samples(cfg))

    def weimann(method, variants):
        return Row(method, study.runs_label(variants), [
            lambda r=r: _weimann(study, method, study.feature_key(r),
                                 study.encoder(r), study.encoder_label(r), x) for r in variants], variants)
    rows.append(weimann(WEIMANN.method, runs))
    label = f"random init, seeds {'/'.join(map(str, seeds))} ({weimann_family.model_text(cfg)})"
    rows.append(Row(RANDOM_WEIMANN, label, [
        lambda s=s: _weimann(study, RANDOM_WEIMANN, f"random-weimann-{s}", weimann_family.random_encoder(cfg, s),
                             label, x) for s in seeds]))
    rows += [weimann(extra_name(e), [e]) for e in study.extra_runs(WEIMANN)]
    return rows


def table9_kim_vs_weimann(study: Study) -> TableResult:
    """Every encoder row of :func:`rows_of` read by three probes (mean-pool linear, pooled-statistics linear,
    attentive) and by the one of them that does best on validation fold 9 ("best readout"), on PTB-XL folds
    1-8/9/10; the representation diagnostics of every run ride along (``result.side_tables``)."""
    b = TableBuilder(study, NAME, PAPER_TABLE)
    recipe, names = _recipe_and_tasks(study)
    sets = label_sets(study, study.ptbxl, names)
    diagnostics = []
    for row in rows_of(study, study.ptbxl):
        per_run: dict[tuple[str, str], list[Probe]] = {}
        for i, make in enumerate(row.makes):
            enc = make()
            variant = row.variants[i] if row.variants else None
            diagnostics.append(_diagnostics_row(study, row.method, enc.run, enc.readouts["mean"], enc.position_share,
                                                variant))
            for labels in sets:
                for probe, scored in _probe_scores(study, enc, labels, recipe).items():
                    per_run.setdefault((labels.name, probe), []).append(scored)
            del enc  # its tokens: the largest arrays of the table
        for labels in sets:
            found = {p: per_run[(labels.name, p)] for p in PROTOCOLS if (labels.name, p) in per_run}
            for probe, runs in found.items():
                _add_rows(b, row.method, row.label, labels, probe, runs)
            if found:
                chosen, sentence = best_readout(found)
                _add_rows(b, row.method, row.label, labels, BEST, found[chosen],
                          f"{sentence}; {found[chosen][0].details}")
    frames = [to_frame(row["paper_table"], [row]) for row in b.rows]
    rows = pd.concat(frames, ignore_index=True) if frames else to_frame(None, [])
    result = TableResult(NAME, rows, b.scores)
    result.side_tables = {DIAGNOSTICS: pd.DataFrame(diagnostics)}
    return result
