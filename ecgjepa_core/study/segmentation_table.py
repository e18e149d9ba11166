"""Table 10 · P, QRS and T segmentation of LUDB from encoder tokens, against cardiologists.

Kim's rb and mb (pretrained here, or the files given in ``encoders``) and the random-init encoder, each
with a linear token-to-sample head on the frozen encoder and fine-tuned end to end (the same recipe for
all three), beside a 1-D U-Net trained from scratch and neurokit2's classical delineator, all scored on
the same test records (``evaluation/segmentation.py``, ``evaluation/delineation.py``). LUDB's 200 records
give the fixed split 1–80 train / 81–100 validation (early stopping, epoch choice) / 101–200 test; a
folder with fewer records (the shipped sample) gets a pipeline-check split, said in every row. Every
trained run's learning curve (training loss, validation mIoU and per-wave IoU per epoch) is kept in
``table10_segmentation_curves.csv`` and drawn in ``figures/table10_segmentation_curves.png``.
"""

from __future__ import annotations

import math

import pandas as pd

from ecgjepa_core.data import LudbReader
from ecgjepa_core.data.ludb_segmentation import ludb_split, pipeline_check_split
from ecgjepa_core.evaluation.segmentation import (NEUROKIT, UNET, SegmentationConfig, kim_adapter,
                                                  segmentation_table)
from ecgjepa_core.report.results import TableResult
from ecgjepa_core.report.segmentation_figure import plot_segmentation_curves, plot_segmentation_overlay
from ecgjepa_core.study.study import MB, RB, Study
from ecgjepa_core.study.tables import TableBuilder

TASK = "P/QRS/T segmentation"
# Our metric name -> the row's metric label (the registry picks the compact table's columns).
METRIC_LABELS = {"miou_waves": "mIoU (P, QRS, T)", "miou_all": "mIoU (with none)", "iou_P": "IoU P",
                 "iou_QRS": "IoU QRS", "iou_T": "IoU T", "QRS_onset_sensitivity": "QRS onset Se",
                 "QRS_onset_ppv": "QRS onset PPV",
                 "QRS_onset_error_mean_ms": "QRS onset error (ms)", "P_onset_sensitivity": "P onset Se",
                 "T_offset_sensitivity": "T offset Se"}
NAMES = {"ECG-JEPA_rb": RB, "ECG-JEPA_mb": MB}
RANDOM = "Random init"
CURVES = "table10_segmentation_curves"  # side table: one row per run and epoch


def config_of(study: Study) -> SegmentationConfig:
    plan = study.profile.evaluation
    frozen, finetune, unet = plan.segmentation_epochs  # the most epochs each may run before early stopping
    return SegmentationConfig(epochs_frozen=frozen, epochs_finetune=finetune, epochs_unet=unet,
                              unet_width=plan.segmentation_unet_width, seed=study.seed, bootstrap=plan.bootstrap)


def split_of(study: Study) -> tuple[dict[str, list[str]], str]:
    """LUDB's fixed split where all 200 records are present, else a pipeline check of the few there are."""
    ids = [str(r) for r in LudbReader(study.profile.path(study.profile.ludb)).index()["record_id"]]
    if len(ids) >= 200:
        return ludb_split(), "records 1-80 train / 81-100 val / 101-200 test"
    split = pipeline_check_split(ids)
    return split, (f"pipeline check: record {', '.join(split['train'])} train / {', '.join(split['val'])} val / "
                   f"{', '.join(split['test'])} test")


def _recipe_text(info: dict, table: pd.DataFrame) -> str:
    """What a run did, for its rows' details: lr and epochs of a trained run; neurokit2's QRS boundary keys
    with the mean onset and offset errors measured in this run."""
    if "epochs" in info:
        return f"lr {info['lr']}, epochs: {info['epochs']}"
    error = table[table["method"] == NEUROKIT].set_index("metric")["value"]
    return (f"QRS onset and offset are neurokit2's R-onset and R-offset keys (ECG_R_Onsets, ECG_R_Offsets; dwt "
            f"gives no other QRS boundary): mean error {error['QRS_onset_error_mean_ms']:+.0f} ms at the onset, "
            f"{error['QRS_offset_error_mean_ms']:+.0f} ms at the offset")


def table10_segmentation(study: Study) -> TableResult:
    """Segmentation rows (every metric) for every method and protocol, with per-record counts kept."""
    b = TableBuilder(study, "table10_segmentation", "segmentation")
    recipe = study.profile.ludb.recipe
    labels = {method: study.encoder_label(v) for method, v in NAMES.items()}
    labels[RANDOM] = study.random_label
    adapters = {method: kim_adapter(study.encoder(v), recipe, labels[method]) for method, v in NAMES.items()}
    adapters[RANDOM] = kim_adapter(study.random_encoder(), recipe, labels[RANDOM])
    split, split_text = split_of(study)
    res = segmentation_table(adapters, study.profile.path(study.profile.ludb), config_of(study), split=split,
                             random_init=RANDOM)
    labels.update({UNET: f"1-D U-Net trained from scratch (width {config_of(study).unet_width})",
                   NEUROKIT: "neurokit2 ecg_delineate (dwt), no training"})
    bad = int(res.issues["count"].sum()) if len(res.issues) else 0
    recipes = {(run.method, run.protocol): _recipe_text(run.protocol_info, res.table) for run in res.runs}
    for r in res.table.itertuples():
        if r.metric not in METRIC_LABELS:
            continue
        ci = not (math.isnan(r.ci_low) or math.isnan(r.ci_high))
        paper = ({"method": r.method, "dataset": "LUDB", "task": TASK, "metric": "mIoU", "setting": r.protocol}
                 if r.method in NAMES and r.metric == "miou_all" else None)
        b.add({"method": r.method, "encoder": labels[r.method], "dataset": "LUDB", "task": TASK, "split": split_text,
               "protocol": r.protocol, "ablation": "", "metric": METRIC_LABELS[r.metric], "ours": r.value,
               "ci_low": r.ci_low, "ci_high": r.ci_high, "ci_over": "test records" if ci else "",
               "n_test": r.n_records, "paper_key": paper,
               "details": f"{r.input}; {recipes[r.method, r.protocol]}; scored on each lead's annotated span, "
                          f"boundaries within 150 ms; {bad} annotated waves without onset or offset left unscored"})
    result = b.result()
    result.record_stats = res.record_scores
    result.figure_data = res.figure or None
    result.side_tables = {CURVES: res.curves()}
    return result


def segmentation_figures(study: Study, result: TableResult) -> None:
    """Drawn when the table is published, from what its builder kept: ``table10_segmentation_curves.png`` (every
    run's validation and training measures per epoch, the kept epoch marked) and
    ``table10_segmentation_overlay.png`` (one test record's ECG with the cardiologists' segments and those of mb,
    the U-Net and neurokit2)."""
    curves = result.side_tables.get(CURVES)
    if curves is not None and len(curves):
        split_text = result.rows["split"].iloc[0] if len(result.rows) else "LUDB"
        plot_segmentation_curves(study.figures_dir / f"{CURVES}.png", curves,
                                 title=f"LUDB segmentation: learning curves ({split_text}; dot: kept epoch)")
    f = result.figure_data
    if not f:
        return
    shown = {k: v for k, v in f["pred"].items() if k.startswith(("ECG-JEPA_mb", UNET, NEUROKIT))}
    plot_segmentation_overlay(study.figures_dir / "table10_segmentation_overlay.png", f["ecg"], f["truth"], shown,
                              f["leads"], f["fs"], title=f"LUDB record {f['record_id']}: cardiologists and predicted "
                              "segments")
