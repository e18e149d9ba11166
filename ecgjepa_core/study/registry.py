"""The experiment table as data: one entry per result table, and :func:`publish`.

Everything that lists tables reads this registry: the report's order, the pretraining runs a
study needs, the claims' targets, the notebook titles. Adding a table is one :class:`TableSpec`
here, one builder (a function ``Study -> TableResult``) and one thin notebook that calls
``publish(study, name)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ecgjepa_core.report import claims, figures, markdown, provenance
from ecgjepa_core.study import kim_vs_weimann, learning_curves, references, segmentation_table, tables
from ecgjepa_core.study.results import TableResult, to_frame
from ecgjepa_core.study.study import (MB, RB, RB_12_LEADS, RB_REAL_ONLY, WEIMANN, Study, Variant, masking_variant,
                                      without_cropa)


@dataclass(frozen=True)
class TableSpec:
    """One result table: what it is, what the paper calls it, what it needs, how it is built."""

    name: str                                   # file stem under results/<profile>/
    title: str
    notebook: str                               # the notebook that publishes it
    paper_table: str | None                     # key of ``report.paper.TABLES``; None: no published table
    protocol: str                               # the protocol in one sentence, the table's caption
    build: Callable[[Study], TableResult]
    variants: Callable[[Study], list[Variant]]  # pretraining runs of this study it reads
    ablation_of_our_pretraining: bool = False   # compares our own pretraining runs: given files do not enter
    compact_metrics: tuple[str, ...] | None = None  # the metrics of the compact table (None: all; the CSV has all)
    compact_ablations: tuple[str, ...] | None = None  # likewise, the ablation settings it shows


def _first_runs(study: Study) -> list[Variant]:
    """rb and mb, their first pretraining seed (the tables that evaluate one run of each)."""
    return [v for v in (RB, MB) if study.given(v) is None]


def main_runs(study: Study) -> list[Variant]:
    """Every pretraining seed of rb and mb (the rows whose claims account for pretraining variance)."""
    return [run for v in _first_runs(study) for run in study.main_runs(v)]


def _table1_variants(study: Study) -> list[Variant]:
    return main_runs(study) + ([RB_REAL_ONLY] if study.profile.synthetic and study.can_pretrain else [])


def _cropa_variants(study: Study) -> list[Variant]:
    return [study.ablation(v) for v in (RB, MB, without_cropa(RB), without_cropa(MB))]


def weimann_runs(study: Study) -> list[Variant]:
    """Every pretraining seed of Weimann & Conrad's model, where this study pretrains it."""
    return study.main_runs(WEIMANN) if study.given(WEIMANN) is None and study.profile.weimann is not None else []


def _kim_vs_weimann_variants(study: Study) -> list[Variant]:
    return main_runs(study) + weimann_runs(study)


def _masking_variants(study: Study) -> list[Variant]:
    return [study.ablation(masking_variant(kind, scale)) for kind, scale in study.profile.evaluation.mask_ratios]


_PROBE = ("Frozen mean-pooled representations, linear head ({recipe} recipe); mean ± sd over {seeds} probe seeds; "
          "95 % CI over test records of that mean.")

TABLES: tuple[TableSpec, ...] = (
    TableSpec("table1_linear", "Table 1 · Linear evaluation", "02_table1_linear", "linear", _PROBE,
              tables.table1_linear, _table1_variants, compact_metrics=("AUC", "AUC (one-vs-one)", "F1")),
    TableSpec(references.NAME, "References · without self-supervision", "12_references", None,
              "PTB-XL multi-label on Table 1's splits and test records: a 1-D ResNet trained from scratch (mean over "
              "{seeds} training seeds), a logistic regression on hand-crafted ECG features, and the ECG-JEPA linear "
              "probes (all pretraining seeds; nested CI). Not a table of the paper: it says what the labels alone "
              "give at this size.", references.table_references, main_runs, compact_metrics=("AUC",)),
    TableSpec("table2_finetune", "Table 2 · Fine-tuning (multi-class)", "03_table2_finetune", "finetune",
              "Encoder and linear head trained end to end (code recipe: 0.67-40 Hz filters, RandAugment). Where the "
              "split has a validation fold, the lr is searched on it for every initialisation alike (the authors' lr "
              "among the candidates, its run shown as its own row); elsewhere the authors' recipe as published. One "
              "seed, the first pretraining run; 95 % CI over test records.", tables.table2_finetune, _first_runs,
              compact_metrics=("AUC (one-vs-rest)", "F1")),
    TableSpec("table3_low_shot", "Table 3 · Low-shot linear evaluation", "04_table3_low_shot", "low_shot",
              "Linear probes trained on 1 % and 10 % of the training labels; mean ± sd over draws of the subset.",
              tables.table3_low_shot, _first_runs),
    TableSpec("table4_reduced_leads", "Table 4 · Reduced leads", "05_table4_reduced_leads", "reduced_leads",
              _PROBE + " Leads II and II + V1 keep their lead codes.", tables.table4_reduced_leads, _first_runs),
    TableSpec("table5_ecg_features", "Table 5 · ECG features", "06_table5_ecg_features", "feature_regression",
              "Heart rate and QRS duration regressed on frozen features (least squares); MAE ± sd of |error|, "
              "95 % CI over test records; the label delineator's own error against LUDB's cardiologists beside it.",
              lambda s: tables.table5_ecg_features(s, s.ecg_feature_labels(), s.ludb_validation()), _first_runs),
    TableSpec("table6_cropa", "Table 6 · CroPA ablation", "07_table6_cropa", "cropa_ablation",
              _PROBE + " Fine-tuned rows: one seed.", tables.table6_cropa, _cropa_variants,
              ablation_of_our_pretraining=True, compact_metrics=("AUC (one-vs-one)",)),
    TableSpec("table7_masking", "Table 7 · Masking strategy and ratio", "08_table7_masking", "masking", _PROBE,
              tables.table7_masking, _masking_variants, ablation_of_our_pretraining=True),
    TableSpec("table8_leads", "Table 8 · Eight vs twelve leads", "09_table8_leads", "leads_8_vs_12", _PROBE,
              tables.table8_leads, lambda s: [s.ablation(RB), s.ablation(RB_12_LEADS)],
              ablation_of_our_pretraining=True),
    TableSpec(kim_vs_weimann.NAME, "Table 9 · Kim vs Weimann at equal compute", "10_kim_vs_weimann",
              kim_vs_weimann.PAPER_TABLE,
              "Kim's ECG-JEPA (mb, rb) and Weimann & Conrad's at equal pretraining compute (or given files), and a "
              "random init of each, read by a frozen mean-pool linear probe ({recipe} recipe) and a frozen attentive "
              "probe on PTB-XL folds 1-8 / 9 / 10; mean over {seeds} probe seeds, 95 % CI over test records. "
              "Not a table of either paper.", kim_vs_weimann.table9_kim_vs_weimann, _kim_vs_weimann_variants,
              compact_metrics=("AUC", "AUC (one-vs-rest)"), compact_ablations=("superdiagnostic", "ST-MEM")),
    TableSpec("table10_segmentation", "Table 10 · P, QRS and T segmentation (LUDB)", "11_segmentation",
              "segmentation",
              "Per-sample P / QRS / T labels on LUDB against its cardiologists: linear token-to-sample head on the "
              "frozen or fine-tuned encoder (the same recipe for random init), a 1-D U-Net from scratch, neurokit2's "
              "delineator; early stopping on the validation records, learning curves in "
              "table10_segmentation_curves.csv; 95 % CI over test records; one seed. neurokit2's QRS onset is its "
              "R-onset key (ECG_R_Onsets), which lands in the P wave or PR segment: hence its early onset error. "
              "Kim's v5 numbers: reported, unverified.",
              segmentation_table.table10_segmentation, _first_runs,
              compact_metrics=("mIoU (P, QRS, T)", "mIoU (with none)", "IoU P", "IoU QRS", "IoU T",
                               "QRS onset error (ms)")),
)
REGISTRY = {spec.name: spec for spec in TABLES}
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


def caption(study: Study, spec: TableSpec) -> str:
    """The protocol stated once for the whole table, with the profile's note."""
    text = spec.protocol.format(recipe=study.profile.evaluation.probe_recipe, seeds=len(study.probe_seeds))
    return f"{text}\n\n{study.profile.table_note} Kim's {study.model_text}."


def publish(study: Study, name: str) -> TableResult:
    """Build table ``name`` and write everything it leaves: ``<name>.csv`` (every row), ``<name>.md`` (caption,
    provenance, compact table), ``scores/<name>.npz`` (every seed's test scores), ``<name>.provenance.json`` and
    the ours-vs-paper figure. A table that compares our own pretraining runs is written as "not run" where the
    profile does not pretrain."""
    spec = table_spec(name)
    ident = study.identity()
    if spec.ablation_of_our_pretraining and not study.can_pretrain:
        result = TableResult(name, to_frame(spec.paper_table, []))
        note = (f"Not run: this table compares pretraining runs of this study, and profile `{study.profile.name}` "
                "evaluates given encoders without pretraining. Run it with --profile paper.")
    else:
        result = spec.build(study)
        note = ""
    claims.save_test_scores(study.output_dir, result, ident)
    provenance.write_identity(study.output_dir, name, ident)
    _, md = markdown.write_table(result.rows, study.output_dir, name, spec.title, caption(study, spec), ident,
                                 note=note, metrics=spec.compact_metrics, ablations=spec.compact_ablations)
    md.write_text(md.read_text() + "\n" + findings(study, result) + "\n")  # judged on the files just written
    shown = markdown.compact(result.rows, spec.compact_metrics, spec.compact_ablations)
    if len(shown):
        figures.plot_ours_vs_paper(study.figures_dir / f"{name}_ours_vs_paper.png", shown,
                                   title=f"{spec.title}: ours vs paper")
    return result


def show(result: TableResult) -> str:
    """The compact view of a published table, as the notebook displays it (Markdown)."""
    spec = table_spec(result.name)
    view = markdown.compact_view(result.rows, spec.compact_metrics, spec.compact_ablations)
    return markdown.pipe_table(view) if len(view) else "(no rows)"


def findings(study: Study, result: TableResult) -> str:
    """What the table found, in the words REPORT.md uses: the gap to the paper by metric and the verdict of
    each of the paper's claims on this table (the same paired comparison as the report)."""
    lines = [markdown.paper_gap(result.rows)]
    judged = claims.judge_all(study.output_dir, study.profile.evaluation.bootstrap, study.seed, (result.name,))
    return "\n".join(lines + [""] + [claims.describe(j) for j in judged])


def write_report(study: Study, allow_mixed: bool = False) -> Path:
    """``REPORT.md`` from the published tables: refuses tables of different runs unless ``allow_mixed``,
    and then names every difference at the top."""
    # The data table stays in data.md; the preamble counts it.
    plain = ("pretraining_runs", learning_curves.SUMMARY)
    identities = provenance.read_identities(study.output_dir, list(TABLE_ORDER))
    mixed = provenance.differences(identities)
    if mixed and not allow_mixed:
        raise SystemExit("REPORT.md not written: the tables come from different runs (" + "; ".join(mixed) + "). "
                         "Rerun the series with one set of parameters, or pass -p allow_mixed true to write the "
                         "report with these differences named at its top.")
    n_boot = study.profile.evaluation.bootstrap
    judged = claims.judge_all(study.output_dir, n_boot, study.seed)
    head = markdown.pipe_table(claims.headline(judged))
    head += ("\n\n" + claims.method_text(n_boot, study.seed) + f" In the tables: {markdown.CELL_LEGEND} "
             f"{markdown.FLAG_MARK}: the test set lacks some classes, or the classifier gives every test record one "
             "decision; such cells are not compared with the paper. Each table's own file (`<table>.md`) adds its "
             "claims in full, its flags and its gap to the paper by metric.")
    first = next(iter(identities.values()), None)
    if first is not None and not mixed:
        head += f"\n\nEvery table below: {markdown.provenance_line(first)} Kim's {study.model_text}."
    return markdown.write_report(
        study.output_dir, study.profile.name, plain + TABLE_ORDER, study.profile.deviations, headline=head,
        preamble_text=markdown.preamble(study.output_dir, study.profile.name, study.seed),
        provenance_notes=mixed, figures_order=FIGURE_ORDER)
