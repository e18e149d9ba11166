"""The experiment table as data: one entry per result table, and :func:`publish`.

Everything that lists tables reads this registry: the report's order, the pretraining runs a
study needs, the claims' targets, the notebook titles. Adding a table is one :class:`TableSpec`
here, one builder (a function ``Study -> TableResult``) and one thin notebook that calls
``publish(study, name)``; :func:`compute` builds a table without writing anything (exploring).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ecgjepa_core.errors import UserFileError
from ecgjepa_core.evaluation.recipes import probe_recipe
from ecgjepa_core.evaluation.scoring import BALANCED_TEXT
from ecgjepa_core.files import atomic_write_text
from ecgjepa_core.report import claims, figures, markdown, provenance
from ecgjepa_core.study import (diagnostics, kim_vs_weimann, learning_curves, recipe_search, references,
                                segmentation_table, tables)
from ecgjepa_core.report.results import TableResult, to_frame
from ecgjepa_core.study.study import (MB, RB, RB_12_LEADS, RB_REAL_ONLY, RUN_COLUMNS, WEIMANN, Study,
                                      Variant,
                                      masking_variant, without_cropa)


@dataclass(frozen=True)
class TableSpec:
    """One result table: what it is, what the paper calls it, what it needs, how it is built."""

    name: str                                   # file stem under results/<profile>/
    title: str
    notebook: str                               # the notebook that publishes it
    paper_table: str | None                     # key of ``report.paper.TABLES``; None: no published table
    # The protocol in words, the table's caption (fields: see :func:`caption`). What each number is a mean over
    # and what its interval covers is not written here: the caption adds it from the rows themselves.
    protocol: str
    build: Callable[[Study], TableResult]
    variants: Callable[[Study], list[Variant]]  # pretraining runs of this study it reads
    keys: tuple[str, ...] = ()                  # the override keys (``-p overrides``) that change its protocol
    ablation_of_our_pretraining: bool = False   # compares our own pretraining runs: given files do not enter
    compact_metrics: tuple[str, ...] | None = None  # the metrics of the compact table (None: all; the CSV has all)
    compact_ablations: tuple[str, ...] | None = None  # likewise, the ablation settings it shows
    compact_across: str = "metric"  # the compact table's columns: one per metric, or e.g. one per protocol
    figures: Callable[[Study, TableResult], None] | None = None  # its own figures, drawn when it is published


def _first_runs(study: Study) -> list[Variant]:
    """rb and mb, their first pretraining seed (the tables that evaluate one run of each)."""
    return [v for v in (RB, MB) if study.given(v) is None]


def main_runs(study: Study) -> list[Variant]:
    """Every pretraining seed of rb and mb (the rows whose claims account for pretraining variance)."""
    return [run for v in _first_runs(study) for run in study.main_runs(v)]


def _table1_variants(study: Study) -> list[Variant]:
    return main_runs(study) + ([RB_REAL_ONLY] if study.profile.synthetic and study.can_pretrain else [])


def _cropa_variants(study: Study) -> list[Variant]:
    return [r for v in (RB, MB, without_cropa(RB), without_cropa(MB)) for r in study.ablation_runs(v)]


def weimann_runs(study: Study) -> list[Variant]:
    """Every pretraining seed of Weimann & Conrad's model, where this study pretrains it."""
    return study.main_runs(WEIMANN) if study.given(WEIMANN) is None and study.profile.weimann is not None else []


def _kim_vs_weimann_variants(study: Study) -> list[Variant]:
    """The main runs of the three methods, each method with its paper's recipe where that can differ from the
    method's (a searched one resolves to the chosen run folder if the search picks it), and rb with position-free
    targets where the profile asks for it (``Study.extra_runs`` decides with the search done)."""
    plan = study.profile.pretrain
    methods = [v for v in (RB, MB) if study.given(v) is None] + ([WEIMANN] if weimann_runs(study) else [])
    extra = [study.with_paper_recipe(v) for v in methods
             if plan.search is not None or study.default_recipe(v.method) != study.paper_recipe(v.method)]
    if plan.shortcut_variant is not None and RB in methods:
        extra.append(study.shortcut_variant())
    return main_runs(study) + weimann_runs(study) + (extra if study.can_pretrain else [])


def _masking_variants(study: Study) -> list[Variant]:
    return [r for kind, scale in study.profile.evaluation.mask_ratios
            for r in study.ablation_runs(masking_variant(kind, scale))]


_PROBE = ("Frozen encoder; a linear head ({probe}) on its tokens mean-pooled over leads and time (protocol `linear`: "
          "the paper's readout) and on their pooled statistics (mean, max and sd of every dimension; protocol "
          "`linear, pooled statistics`, not the paper's); {seeds} probe seeds per encoder.")
_PROBE_KEYS = ("evaluation.probe_recipe", "evaluation.probe_seeds", "evaluation.bootstrap")
_ABLATION = (" Every row here pools {ablation_seeds} pretraining run(s) of {ablation_epochs} at the method's recipe, "
             "rb / mb at that same length (the main rows of Table 1 pretrain for {epochs}); a verdict is withdrawn "
             "where the two settings' encoders score the test records alike.")
_ABLATION_KEYS = ("pretrain.ablation_epochs", "pretrain.ablation_seeds") + _PROBE_KEYS

TABLES: tuple[TableSpec, ...] = (
    TableSpec("table1_linear", "Table 1 · Linear evaluation", "02_table1_linear", "linear", _PROBE,
              tables.table1_linear, _table1_variants,
              keys=_PROBE_KEYS + ("pretrain.seeds", "ptbxl_splits", "evaluation.cpsc_folds", "synthetic"),
              compact_metrics=("AUC", "AUC (one-vs-one)", "F1")),
    TableSpec(references.NAME, "References · without self-supervision", "12_references", "linear",
              "PTB-XL multi-label on Table 1's splits and test records: a 1-D ResNet trained from scratch, a logistic "
              "regression on hand-crafted ECG features, and the ECG-JEPA linear probes of Table 1. Not a table of the "
              "paper: it says what the labels alone give at this size.", references.table_references, main_runs,
              keys=("evaluation.probe_seeds", "evaluation.bootstrap", "ptbxl_splits"), compact_metrics=("AUC",)),
    TableSpec("table2_finetune", "Table 2 · Fine-tuning (multi-class)", "03_table2_finetune", "finetune",
              "Encoder and linear head trained end to end (code recipe: 0.67-40 Hz filters, RandAugment). Where the "
              "split has a validation fold, the lr is searched on it for every initialisation alike ({authors_lr}); "
              "elsewhere the authors' recipe as published. "
              "{finetune_loss}; {finetune_seeds}; the first pretraining run.", tables.table2_finetune, _first_runs,
              keys=("evaluation.finetune_lrs", "evaluation.finetune_epochs", "evaluation.finetune_patience",
                    "evaluation.finetune_batch", "evaluation.finetune_on", "evaluation.finetune_class_weights",
                    "evaluation.finetune_authors_lr",
                    "evaluation.supervised_epochs",
                    "evaluation.bootstrap"),
              compact_metrics=("AUC (one-vs-rest)", "F1")),
    TableSpec("table3_low_shot", "Table 3 · Low-shot linear evaluation", "04_table3_low_shot", "low_shot",
              "Linear probes ({probe}) trained on {low_shot} of the training labels, on {draws} random draws of that "
              "subset each (the 1-D ResNet of the references on the same draws); PTB-XL multi-label.",
              tables.table3_low_shot, _first_runs,
              keys=("evaluation.low_shot", "evaluation.low_shot_draws", "evaluation.probe_recipe")),
    TableSpec("table4_reduced_leads", "Table 4 · Reduced leads", "05_table4_reduced_leads", "reduced_leads",
              _PROBE + " Leads II and II + V1 keep their lead codes.", tables.table4_reduced_leads, _first_runs,
              keys=_PROBE_KEYS),
    TableSpec("table5_ecg_features", "Table 5 · ECG features", "06_table5_ecg_features", "feature_regression",
              "Heart rate and QRS duration regressed on the frozen mean-pooled features (least squares, targets "
              "standardised on the training records); cells are mean absolute errors. The label delineator's own "
              "error against LUDB's cardiologists stands beside them.",
              lambda s: tables.table5_ecg_features(s, s.ecg_feature_labels(), s.ludb_validation()), _first_runs,
              keys=("ptbxl_splits", "evaluation.bootstrap")),
    TableSpec("table6_cropa", "Table 6 · CroPA ablation", "07_table6_cropa", "cropa_ablation", _PROBE + _ABLATION,
              tables.table6_cropa, _cropa_variants, keys=_ABLATION_KEYS + ("evaluation.ablation_finetune_on",),
              ablation_of_our_pretraining=True, compact_metrics=("AUC (one-vs-one)",)),
    TableSpec("table7_masking", "Table 7 · Masking strategy and ratio", "08_table7_masking", "masking",
              _PROBE + _ABLATION, tables.table7_masking, _masking_variants,
              keys=("evaluation.mask_ratios",) + _ABLATION_KEYS, ablation_of_our_pretraining=True),
    TableSpec("table8_leads", "Table 8 · Eight vs twelve leads", "09_table8_leads", "leads_8_vs_12",
              _PROBE + _ABLATION, tables.table8_leads,
              lambda s: [r for v in (RB, RB_12_LEADS) for r in s.ablation_runs(v)],
              keys=_ABLATION_KEYS, ablation_of_our_pretraining=True),
    TableSpec(kim_vs_weimann.NAME, "Table 9 · Readouts: Kim, Weimann and random init at equal compute",
              "10_kim_vs_weimann", kim_vs_weimann.PAPER_TABLE,
              "Kim's ECG-JEPA (mb, rb) and Weimann & Conrad's at equal pretraining compute (or given files), each "
              "also with its paper's recipe where the study trains it with another, rb with position-centred targets "
              "(not in the paper) where the profile pretrains it, and a random init of each family, read by three "
              "frozen probes on PTB-XL folds 1-8 / 9 / 10: a linear probe ({probe}) on the mean of the tokens (the "
              "paper's readout) and on pooled statistics of the tokens (mean, max, sd of every dimension), and an "
              "attentive probe; 'best readout' is the one of the three with the best validation (fold 9) AUC, chosen "
              "per row. Rows of several runs pool their pretraining or initialisation seeds, the 95 % CI nested over "
              "them and the test records. Not a table of either paper.",
              kim_vs_weimann.table9_kim_vs_weimann, _kim_vs_weimann_variants,
              keys=_PROBE_KEYS + ("weimann.probe_steps", "weimann.probe_batch", "weimann.attentive_seeds",
                                  "weimann.tasks", "pretrain.shortcut_variant"),
              compact_metrics=("AUC", "AUC (one-vs-rest)"), compact_ablations=("superdiagnostic", "ST-MEM"),
              compact_across="protocol"),
    TableSpec("table10_segmentation", "Table 10 · P, QRS and T segmentation (LUDB)", "11_segmentation",
              "segmentation",
              "Per-sample P / QRS / T labels on LUDB against its cardiologists: linear token-to-sample head on the "
              "frozen or fine-tuned encoder (the same recipe for random init), a 1-D U-Net from scratch, neurokit2's "
              "delineator; early stopping on the validation records, learning curves in "
              "table10_segmentation_curves.csv; 95 % CI over test records; one seed. neurokit2's QRS onset is its "
              "R-onset key (ECG_R_Onsets), which lands in the P wave or PR segment: hence its early onset error. "
              "Kim's v5 numbers: reported, unverified.",
              segmentation_table.table10_segmentation, _first_runs,
              keys=("evaluation.segmentation_epochs", "evaluation.segmentation_unet_width", "evaluation.bootstrap",
                    "ludb.path"),
              compact_metrics=("mIoU (P, QRS, T)", "mIoU (with none)", "IoU P", "IoU QRS", "IoU T",
                               "QRS onset error (ms)"),
              figures=segmentation_table.segmentation_figures),
)
REGISTRY = {spec.name: spec for spec in TABLES}
# Plain tables a builder computes alongside its table: name -> (title, notes of the frame).
SIDE_TABLES = {
    kim_vs_weimann.DIAGNOSTICS: ("Representation diagnostics",
                                 lambda frame: [diagnostics.caption(), *diagnostics.summary_sentences(frame)]),
    segmentation_table.CURVES: ("Table 10 · learning curves", lambda frame: [
        "One row per run and epoch: training loss and the validation records' measures; the kept epoch is the one "
        "with the best validation mIoU (P, QRS, T), training stopping after the patience without a better one."]),
}
TABLE_ORDER = tuple(spec.name for spec in TABLES)
# Figures in the report: the method's pictures, pretraining, then each table's figures in table order.
FIGURE_ORDER = ("ecg_example", "masking_strategies", "cropa_mask", "pretraining_curves", "learning_curves",
                "embedding") + tuple(
    stem for spec in TABLES for stem in (spec.name, f"roc_{spec.name}"))


def table_spec(name: str) -> TableSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no table {name!r}; tables: {', '.join(TABLE_ORDER)}") from None


def pretrained_variants(study: Study) -> list[Variant]:
    """Every pretraining run the registered tables read, each once, in table order."""
    if not study.can_pretrain:
        return []
    return list(dict.fromkeys(v for spec in TABLES for v in spec.variants(study)))


def searched_methods(study: Study) -> list[str]:
    """The methods whose recipe this study searches (pretrained here, in a profile with ``pretrain.search``)."""
    if not study.can_pretrain or study.profile.pretrain.search is None:
        return []
    return [v.method for v in (RB, MB) if study.given(v) is None] + [v.method for v in weimann_runs(study)[:1]]


def recipe_searches(study: Study) -> pd.DataFrame:
    """Every candidate of every method's recipe search (``study.recipe_search``), pretraining them if needed."""
    frames = [study.recipe_search(method).table() for method in searched_methods(study)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


RECIPES_TABLE = "pretraining_recipes"


def publish_recipe_searches(study: Study) -> str:
    """``pretraining_recipes.csv`` / ``.md``: every candidate of every method's recipe search with the choice in
    words (pretraining the candidates first), its provenance record listing their runs; returns the Markdown to
    show, or why there is none."""
    searches = recipe_searches(study)
    if not len(searches):
        return "No recipe search in this profile: every run trains with the profile's own values."
    notes = [study.profile.table_note, recipe_search.caption(study), *recipe_search.chosen_sentences(searches)]
    files = markdown.write_plain_table(searches, study.output_dir, RECIPES_TABLE, "Pretraining recipes", notes,
                                       hidden=("run",))
    candidates = [replace(study.main_variant(method), recipe=c.recipe)
                  for method in searched_methods(study) for c in study.recipe_search(method).candidates]
    runs = study.pretraining_summary(candidates)
    provenance.write_identity(study.output_dir, RECIPES_TABLE, study.identity(), files,
                              runs=json.loads(runs.to_json(orient="records")))
    return markdown.pipe_table(searches) + "\n\n" + "\n".join("- " + n for n in notes[1:])


def probe_text(study: Study) -> str:
    """The profile's linear-probe recipe in words: ``code-standardised: AdamW lr 0.01, …``."""
    name = study.profile.evaluation.probe_recipe
    r = probe_recipe(name)
    return (f"{name}: AdamW lr {r.lr:g}, weight decay {r.weight_decay:g}, batch {r.batch_size}, {r.epochs} epochs, "
            "the last kept" + (", features z-scored with the training records' mean and sd" if r.standardize else ""))


def caption(study: Study, spec: TableSpec) -> str:
    """The protocol stated once for the whole table, the probe recipe where it has one, the override keys that
    change it, the profile's note."""
    plan = study.profile.evaluation
    def epochs(n: int) -> str:
        return f"{n} epoch{'s' if n != 1 else ''}"
    text = spec.protocol.format(
        probe=f"the `{plan.probe_recipe}` probe recipe", seeds=len(study.probe_seeds), draws=plan.low_shot_draws,
        low_shot=" and ".join(f"{100 * f:g} %" for f in plan.low_shot), epochs=epochs(study.epochs),
        ablation_epochs=epochs(study.epochs_of(study.ablation(RB))), ablation_seeds=study.profile.pretrain.ablation_seeds,
        finetune_loss=f"Cross-entropy with {BALANCED_TEXT} (not the authors' plain loss)"
        if plan.finetune_class_weights == "balanced" else "The authors' plain cross-entropy",
        authors_lr="the authors' lr among the candidates, its run shown as its own row" if plan.finetune_authors_lr
        else "the authors' lr not among the candidates: `evaluation.finetune_authors_lr` is false",
        finetune_seeds=f"{plan.finetune_seeds} fine-tuning seed{'s' if plan.finetune_seeds != 1 else ''} for the "
                       "searched rows")
    if "{probe}" in spec.protocol:
        text += f"\n{markdown.PROBE_MARK} {probe_text(study)}."
    keys = ", ".join(f"`{k}`" for k in spec.keys)
    return (f"{text}\n\n{markdown.KEYS_MARK} (`-p overrides`, README \"Overrides\"): {keys}.\n\n"
            f"{study.profile.table_note} {study.models_text}.")


def compute(study: Study, name: str) -> TableResult:
    """Table ``name`` built for ``study`` and returned, nothing written (the exploring path: open a ``Study`` with
    other ``overrides``, compute, compare; :func:`publish` writes the study's own tables). A table that compares
    our own pretraining runs comes back empty where the profile does not pretrain."""
    spec = table_spec(name)
    if spec.ablation_of_our_pretraining and not study.can_pretrain:
        return TableResult(name, to_frame(spec.paper_table, []))
    return spec.build(study)


def publish(study: Study, name: str) -> TableResult:
    """Build table ``name`` (:func:`compute`) and write everything it leaves (:func:`write_table_files`)."""
    result = compute(study, name)
    write_table_files(study, result)
    return result


def write_table_files(study: Study, result: TableResult) -> Path:
    """Everything a computed table leaves under ``results/``: ``<name>.csv`` (every row), ``<name>.md`` (caption,
    provenance, compact table, findings), ``scores/<name>.npz`` (every seed's test scores),
    ``<name>.provenance.json``, the ours-vs-paper figure and the table's own figures. A table that compares our
    own pretraining runs is written as "not run" where the profile does not pretrain. Returns ``<name>.md``."""
    spec, name = table_spec(result.name), result.name
    ident = study.identity()
    note = (f"Not run: this table compares pretraining runs of this study, and profile `{study.profile.name}` "
            "evaluates given encoders without pretraining. Run it with --profile paper."
            if spec.ablation_of_our_pretraining and not study.can_pretrain else "")
    scores = claims.save_test_scores(study.output_dir, result, ident)
    for side, frame in result.side_tables.items():
        title, notes = SIDE_TABLES[side]
        markdown.write_plain_table(frame, study.output_dir, side, title, [study.profile.table_note, *notes(frame)],
                                   digits=4, hidden=("run",))
    csv, md = markdown.write_table(result.rows, study.output_dir, name, spec.title, caption(study, spec), ident,
                                   note=note, metrics=spec.compact_metrics, ablations=spec.compact_ablations,
                                   across=spec.compact_across)
    atomic_write_text(md, md.read_text() + "\n" + findings(study, result) + "\n")  # judged on the files just written
    records = [claims.record_stats_path(study.output_dir, name)] if result.record_stats is not None else []
    runs = study.pretraining_summary(study.finished(spec.variants(study))) if study.can_pretrain else pd.DataFrame()
    provenance.write_identity(study.output_dir, name, ident, [csv, md, scores, *records],
                              runs=json.loads(runs.to_json(orient="records")))
    shown = markdown.compact(result.rows, spec.compact_metrics, spec.compact_ablations)
    if len(shown):
        figures.plot_ours_vs_paper(study.figures_dir / f"{name}_ours_vs_paper.png", shown,
                                   title=f"{spec.title}: ours vs paper")
    if spec.figures is not None:
        spec.figures(study, result)
    return md


def show(study: Study, result: TableResult) -> str:
    """A table as the notebook displays it (Markdown): its caption (protocol, override keys, profile), the splits
    it shows, what its numbers are, the compact table and its flags."""
    spec = table_spec(result.name)
    return (caption(study, spec) + "\n\n"
            + markdown.table_markdown(result.rows, result.name, spec.compact_metrics, spec.compact_ablations,
                                      spec.compact_across))


def figures_of(study: Study, name: str) -> list:
    """The PNGs a table left in ``figures/`` (ours vs paper, ROC curves, its own), as images a notebook displays
    inline: ``display(*figures_of(study, name))``."""
    stems = (name, f"roc_{name}")
    return figures.inline([p for stem in stems for p in sorted(study.figures_dir.glob(f"{stem}_*.png"))])


def findings(study: Study, result: TableResult) -> str:
    """What the table found, in the words REPORT.md uses: the gap to the paper by metric and the verdict of
    each of the paper's claims on this table (the same paired comparison as the report)."""
    lines = [markdown.paper_gap(result.rows)]
    judged = claims.judge_all(study.output_dir, study.profile.evaluation.bootstrap, study.seed, (result.name,))
    return "\n".join(lines + [""] + [claims.describe(j) for j in judged])


RUNS_TABLE = "pretraining_runs"


def write_pretraining_runs(study: Study) -> pd.DataFrame:
    """``pretraining_runs.csv`` / ``.md``: every pretraining run the published tables read, in table order, from
    their provenance records: the results folder alone, so that rendering the report never pretrains (a fresh
    clone re-renders committed results). UserFileError naming the tables whose records list no runs."""
    records = {spec: provenance.read_identity(study.output_dir, spec.name) for spec in TABLES}
    records = {spec: ident for spec, ident in records.items() if ident is not None}
    if older := [spec for spec, ident in records.items() if "runs" not in ident]:
        raise UserFileError(study.output_dir, f"the provenance records of {', '.join(s.name for s in older)} list no "
                                              "pretraining runs (written by an older version): rerun their notebooks "
                                              f"(run_all.sh --only {','.join(s.notebook[:2] for s in older)})")
    searched = provenance.read_identity(study.output_dir, RECIPES_TABLE) or {}  # the recipe search's candidates
    rows: dict[str, dict] = {}
    for runs in [ident["runs"] for ident in records.values()] + [searched.get("runs", [])]:
        for run in runs:
            rows.setdefault(run["run"], run)
    table = pd.DataFrame(list(rows.values()), columns=RUN_COLUMNS)
    markdown.write_plain_table(table, study.output_dir, RUNS_TABLE, "Every pretraining run of this study",
                               [study.profile.table_note])
    return table


def write_report(study: Study, allow_mixed: bool = False) -> Path:
    """``REPORT.md`` from the published tables: refuses tables of different runs, or table files whose bytes are
    not those their run wrote (edited, truncated), unless ``allow_mixed``, and then names every difference and
    change at the top."""
    # The data table stays in data.md; the preamble counts it.
    plain = (RUNS_TABLE, RECIPES_TABLE, kim_vs_weimann.DIAGNOSTICS, learning_curves.SUMMARY)
    identities = provenance.read_identities(study.output_dir, list(TABLE_ORDER))
    mixed = provenance.differences(identities)
    changed = provenance.changes(study.output_dir, plain + TABLE_ORDER)
    if mixed and not allow_mixed:
        raise SystemExit("REPORT.md not written: the tables come from different runs (" + "; ".join(mixed) + "). "
                         "Rerun the series with one set of parameters, or pass -p allow_mixed true to write the "
                         "report with these differences named at its top.")
    if changed and not allow_mixed:
        raise SystemExit("REPORT.md not written: table files are not what their runs wrote (" + "; ".join(changed)
                         + "). Rerun the notebooks that write them, or pass -p allow_mixed true to write the report "
                         "with these files named at its top.")
    mixed += [f"not as its run wrote it: {c}" for c in changed]
    n_boot = study.profile.evaluation.bootstrap
    judged = claims.judge_all(study.output_dir, n_boot, study.seed)
    head = markdown.pipe_table(claims.headline(judged, {spec.name: spec.title.split(" · ")[0] for spec in TABLES}))
    head += ("\n\n" + claims.method_text(n_boot, study.seed) + f" In the tables: {markdown.CELL_LEGEND} "
             f"{markdown.FLAG_MARK}: the test set lacks some classes, or the classifier gives one decision to every "
             "test record or nearly (95 % or more); such cells are not compared with the paper. Each table's own file (`<table>.md`) adds its "
             "claims in full, its flags and its gap to the paper by metric.")
    first = next(iter(identities.values()), None)
    if first is not None and not mixed:
        head += f"\n\nEvery table below: {markdown.provenance_line(first)} {study.models_text}."
    return markdown.write_report(
        study.output_dir, study.profile.name, plain + TABLE_ORDER, study.profile.deviations, headline=head,
        preamble_text=markdown.preamble(study.output_dir, study.profile.name, study.seed),
        provenance_notes=mixed, figures_order=FIGURE_ORDER, notice=study.profile.notice,
        summarised=(kim_vs_weimann.DIAGNOSTICS,))
