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
from ecgjepa_core.evaluation.attentive_probe import WEIMANN_PROBE, AttentiveProbeRecipe, attentive_probe, crop_tokens
from ecgjepa_core.evaluation.crops import STRIDE_SECONDS, crop_samples
from ecgjepa_core.evaluation.features import extract_features
from ecgjepa_core.study import weimann_family
from ecgjepa_core.study.datasets import LabelledSet
from ecgjepa_core.study.profiles import LEADS_8_OF_12, WeimannPlan
from ecgjepa_core.study.results import MC, ML, TASK, TableResult, TestScores, classification_cells, row_key, to_frame
from ecgjepa_core.study.study import MB, RB, WEIMANN, Study
from ecgjepa_core.study.tables import TableBuilder, over_runs

NAME = "table9_kim_vs_weimann"
PAPER_TABLE = "weimann"
LINEAR, ATTENTIVE = "mean-pool linear", "attentive"
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
    """One encoder as the probes see it: mean-pooled features (N, D) and crop tokens (N, n, S, D)."""

    method: str
    label: str
    features: np.ndarray
    tokens: torch.Tensor
    num_heads: int
    inputs: str       # the input in words, for the details


def _kim(study: Study, method: str, feature_key: str, encoder, label: str, data: LabelledSet) -> Probed:
    n_leads = encoder.cfg.n_leads
    leads = LEADS_8_OF_12 if n_leads == 8 else tuple(range(12))
    x = data.x(np.arange(len(data.records)), leads)
    device = torch.device(study.device)
    encoder = encoder.to(device).eval()
    tokens = crop_tokens(lambda b: encoder(b.to(device)).cpu(), x, None)
    return Probed(method, label, study.features(feature_key, encoder, data), tokens, encoder.cfg.num_heads,
                  f"{n_leads} leads at 250 Hz, whole 10 s records; attentive probe over all {tokens.shape[2]} "
                  "lead x time tokens")


def _weimann(study: Study, method: str, encoder, label: str, x: np.ndarray) -> Probed:
    cfg = encoder.cfg
    device = torch.device(study.device)
    encoder = encoder.to(device).eval()
    size, stride = crop_samples(cfg.sampling_frequency), crop_samples(cfg.sampling_frequency, STRIDE_SECONDS)
    tokens = crop_tokens(lambda b: encoder(b.to(device), with_registers=True).cpu(), x, size, stride)
    features = extract_features(encoder, x, device=study.device, progress=study.progress)
    return Probed(method, label, features, tokens, cfg.num_heads,
                  f"12 leads FFT-resampled from 250 to {cfg.sampling_frequency} Hz; mean over the patch tokens of "
                  f"the whole record; attentive probe over register + patch tokens of {tokens.shape[1]} crops of "
                  f"{size} samples every {stride}, logits averaged")


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


def _probe_scores(study: Study, enc: Probed, labels: LabelSet, recipe: AttentiveProbeRecipe
                  ) -> dict[str, tuple[TestScores, str]]:
    """probe -> (test scores over the probe seeds, details) of one encoder on one label set; empty where this split
    cannot evaluate the label set (a fold without its records, or no AUC on the test fold)."""
    parts, split_text = split_parts(study.ptbxl, labels)
    y, task, n_classes = labels.y, TASK[labels.kind], len(labels.classes)
    if min(len(parts.train), len(parts.val)) == 0 or not _scorable(labels.kind, y[parts.test]):
        return {}
    feats, tokens = enc.features[labels.rows], enc.tokens[torch.as_tensor(labels.rows)]
    plan = study.profile.evaluation
    attentive_seeds = study.probe_seeds[:recipe_seeds(study)]

    def linear(p: Parts, seed: int) -> np.ndarray:
        return linear_probe(feats[p.train], y[p.train], feats[p.test], y[p.test], task, recipe=plan.probe_recipe,
                            seed=seed, n_boot=0, n_classes=n_classes).test_scores

    def attentive(p: Parts, seed: int) -> np.ndarray:
        return attentive_probe(tokens[p.train], y[p.train], tokens[p.val], y[p.val], tokens[p.test], y[p.test], task,
                               enc.num_heads, recipe=recipe, seed=seed, n_classes=n_classes, n_boot=0).test_scores

    probes = {LINEAR: (linear, study.probe_seeds,
                       f"linear probe on mean-pooled tokens ({plan.probe_recipe} recipe, last epoch)"),
              ATTENTIVE: (attentive, attentive_seeds,
                          f"frozen attentive probe, {recipe.steps} steps of {recipe.batch_size}, lr "
                          f"{recipe.lr} constant, wd {recipe.weight_decay}, tested at the step with the "
                          f"best fold-9 AUC (of every {recipe.eval_every})")}
    return {probe: (_scores(run, labels, parts, seeds),
                    f"{text}, {len(seeds)} probe seeds; {enc.inputs}; labels: {labels.description}; {split_text}; "
                    f"{_paper_note(enc.method, probe)}")
            for probe, (run, seeds, text) in probes.items()}


def recipe_seeds(study: Study) -> int:
    """Probe seeds of the attentive probe (the profile's ``weimann.attentive_seeds``, else all probe seeds)."""
    plan = study.profile.weimann
    return len(study.probe_seeds) if plan is None or plan.attentive_seeds is None else plan.attentive_seeds


def _add_rows(b: TableBuilder, method: str, label: str, labels: LabelSet, probe: str,
              runs: list[tuple[TestScores, str]]) -> None:
    """The rows of one encoder (over its pretraining runs) on one label set and probe."""
    study = b.study
    scores = over_runs([s for s, _ in runs])
    details = runs[0][1] + (f"; {len(runs)} pretraining runs (seeds), CI nested over them" if len(runs) > 1 else "")
    key = dict(method=method, encoder=label, dataset=study.ptbxl.name, task=labels.kind,
               split="standard split", protocol=probe, ablation=labels.name)
    b.scores[row_key(key)] = scores
    paper = _paper(method, labels, probe)
    for cell in classification_cells(labels.kind, scores.y, scores.scores, len(labels.classes),
                                     study.profile.evaluation.bootstrap, study.seed, "probe seeds", scores.groups):
        table, fields = paper(cell["metric"])
        b.add({**key, **cell, "details": details, "paper_table": table, "paper_key": fields})


def _recipe_and_tasks(study: Study) -> tuple[AttentiveProbeRecipe, tuple[str, ...]]:
    plan = study.profile.weimann
    if plan is None:
        return WEIMANN_PROBE, WeimannPlan.tasks
    return AttentiveProbeRecipe(steps=plan.probe_steps, batch_size=plan.probe_batch,
                                eval_every=plan.probe_eval_every), plan.tasks


def has_weimann(study: Study) -> bool:
    """Whether the Weimann row can be made: a given file, or a plan to pretrain it here."""
    return study.given(WEIMANN) is not None or (study.can_pretrain and study.profile.weimann is not None)


def _encoders(study: Study, data: LabelledSet):
    """(method, encoder label, [make Probed] over its pretraining runs) for each row, each run made only when
    probed (so that one encoder's tokens are held at a time)."""
    for variant in (MB, RB):
        runs = study.main_runs(variant) if variant == MB else [variant]
        makes = [lambda r=r: _kim(study, r.method, r.key if study.given(r) is None else f"{r.key}:file",
                                  study.encoder(r), study.encoder_label(r), data) for r in runs]
        yield variant.method, study.runs_label(runs), makes
    yield RANDOM_KIM, study.random_label, [
        lambda: _kim(study, RANDOM_KIM, "random", study.random_encoder(), study.random_label, data)]
    if not has_weimann(study):
        return
    runs = study.main_runs(WEIMANN)
    cfg = study.encoder(runs[0]).cfg
    x = weimann_family.upsampled(data.x(np.arange(len(data.records)), weimann_family.leads_of(cfg)),
                                 weimann_family.n_samples(cfg))
    yield WEIMANN.method, study.runs_label(runs), [
        lambda r=r: _weimann(study, WEIMANN.method, study.encoder(r), study.encoder_label(r), x) for r in runs]
    label = f"random init, seed {study.seed} ({weimann_family.model_text(cfg)})"
    yield RANDOM_WEIMANN, label, [
        lambda: _weimann(study, RANDOM_WEIMANN, weimann_family.random_encoder(cfg, study.seed), label, x)]


def table9_kim_vs_weimann(study: Study) -> TableResult:
    """Kim mb (all pretraining seeds) / rb, Weimann (all seeds) and both random inits; mean-pool linear and
    attentive probes; PTB-XL fold 1-8/9/10."""
    b = TableBuilder(study, NAME, PAPER_TABLE)
    recipe, names = _recipe_and_tasks(study)
    sets = label_sets(study, study.ptbxl, names)
    for method, label, makes in _encoders(study, study.ptbxl):
        per_run: dict[tuple[str, str], list] = {}
        for make in makes:
            enc = make()
            for labels in sets:
                for probe, scored in _probe_scores(study, enc, labels, recipe).items():
                    per_run.setdefault((labels.name, probe), []).append(scored)
            del enc  # its tokens: the largest arrays of the table
        for labels in sets:
            for probe in (LINEAR, ATTENTIVE):
                if (labels.name, probe) in per_run:
                    _add_rows(b, method, label, labels, probe, per_run[(labels.name, probe)])
    frames = [to_frame(row["paper_table"], [row]) for row in b.rows]
    rows = pd.concat(frames, ignore_index=True) if frames else to_frame(None, [])
    return TableResult(NAME, rows, b.scores)
