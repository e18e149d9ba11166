"""The paper's published numbers (Kim 2024, its Tables 1–8; record counts in docs/data.md §3–§4) as one tidy table.

One row per published cell. Columns: ``table`` (short name, see ``TABLES``), ``method``,
``epochs`` (pretraining epochs, 0 where not applicable), ``dataset``, ``task``, ``metric``,
``setting`` (what distinguishes cells within a table, "" if nothing), ``value``, ``sd`` (NaN
unless the paper prints ± sd), ``unit``, ``source`` (P-B table / P-A table) and ``note``.
A cell printed as "–" in the paper is a row with NaN value and a note, so that "not reported"
is distinguishable from "no such cell" (the latter raises ``KeyError`` in ``paper_value``).
Values are identical in both paper versions except the heart-rate label mean (70.01 P-B vs
75.01 P-A), which is kept as two rows.
"""

from __future__ import annotations

import math

import pandas as pd

NA = math.nan
KEY = ["table", "method", "epochs", "dataset", "task", "metric", "setting"]
COLUMNS = KEY + ["value", "sd", "unit", "source", "note"]

TABLES = {
    "linear": "P-B Table 1 / P-A Tables 1 (multi-label) and 2 (multi-class)",
    "finetune": "P-B Table 2 / P-A Table 3",
    "low_shot": "P-B Table 3 / P-A Table 4",
    "reduced_leads": "P-B Table 4 / P-A Table 5",
    "feature_regression": "P-B Table 5 / P-A Table 6",
    "cropa_ablation": "P-B Table 6 / P-A Table 7",
    "masking": "P-B Table 7 / P-A Table 8",
    "leads_8_vs_12": "P-B Table 8 / P-A Table 16",
    "dataset_counts": "P-B Tables 9-10 / P-A Tables 12-15",
    # A second paper: Weimann & Conrad's ECG-JEPA (see _weimann_rows).
    "segmentation": "Kim 2024 v5 (April 2026), as quoted by secondary summaries: reported, unverified",
    "weimann": "Weimann & Conrad 2025 (arXiv 2410.13867; Comput. Biol. Med. 196:110809), README of kweimann/ECG-JEPA",
}

ST_MEM_PAPER = "copied from the ST-MEM paper"
MC_AUC_NOTE = "paper text: one-vs-rest; the linear-probe code behind it computes macro one-vs-one (E2)"


def _row(table, method, epochs, dataset, task, metric, setting, value, sd=NA, unit="", source=None, note=""):
    return dict(
        table=table, method=method, epochs=epochs, dataset=dataset, task=task, metric=metric,
        setting=setting, value=value, sd=sd, unit=unit, source=source or TABLES[table], note=note,
    )


def _auc_f1(table, method, epochs, dataset, task, setting, auc, f1, source=None, note=""):
    """Two rows for a printed "AUC / F1" cell."""
    auc_note = "; ".join(n for n in (note, MC_AUC_NOTE if table == "linear" and task == "multi-class" else "") if n)
    return [
        _row(table, method, epochs, dataset, task, "AUC", setting, auc, source=source, note=auc_note),
        _row(table, method, epochs, dataset, task, "F1", setting, f1, source=source, note=note),
    ]


def _linear_rows():
    # method, epochs, ML PTB-XL, ML CPSC2018, MC PTB-XL, MC CPSC2018 (AUC, F1); None = "–"
    printed = [
        ("ST-MEM", 800, (0.896, 0.662), (0.964, 0.752), (0.888, 0.566), (0.973, 0.805)),
        ("SimCLR", 300, (0.866, 0.624), (0.890, 0.523), (0.842, 0.496), (0.918, 0.624)),
        ("CMSC", 300, (0.802, 0.472), (0.767, 0.206), (0.796, 0.442), (0.787, 0.391)),
        ("CPC", 100, (0.620, 0.167), (0.687, 0.091), (0.600, 0.201), (0.672, 0.210)),
        ("MoCo v3", 800, None, None, (0.739, 0.142), (0.712, 0.080)),
        ("MTAE", 800, None, None, (0.807, 0.437), (0.818, 0.349)),
        ("MLAE", 800, None, None, (0.779, 0.382), (0.794, 0.263)),
        ("ECG-JEPA_rb", 100, (0.906, 0.690), (0.969, 0.769), (0.894, 0.616), (0.974, 0.805)),
        ("ECG-JEPA_mb", 100, (0.912, 0.712), (0.971, 0.789), (0.896, 0.628), (0.973, 0.819)),
    ]
    cells = [("PTB-XL", "multi-label"), ("CPSC2018", "multi-label"), ("PTB-XL", "multi-class"), ("CPSC2018", "multi-class")]
    rows = []
    for method, epochs, *values in printed:
        for (dataset, task), cell in zip(cells, values):
            source = "P-B Table 1 / P-A Table " + ("1" if task == "multi-label" else "2")
            note = ST_MEM_PAPER if method in ("MoCo v3", "MTAE", "MLAE") else ""
            if cell is None:
                note = "'–' in the paper (the ST-MEM paper reports multi-class only)"
            auc, f1 = cell or (NA, NA)
            rows += _auc_f1("linear", method, epochs, dataset, task, "", auc, f1, source=source, note=note)
    return rows


def _finetune_rows():
    printed = [
        ("Supervised", 100, (0.887, 0.608), (0.893, 0.566), "trained from scratch on the task"),
        ("MoCo v3", 800, (0.913, 0.644), (0.967, 0.838), ST_MEM_PAPER),
        ("MTAE", 800, (0.910, 0.613), (0.961, 0.769), ST_MEM_PAPER),
        ("MLAE", 800, (0.915, 0.625), (0.973, 0.816), ST_MEM_PAPER),
        ("CMSC", 800, (0.877, 0.510), (0.938, 0.717), ST_MEM_PAPER + " (not the author's 300-epoch CMSC)"),
        ("ST-MEM", 800, (0.929, 0.668), (0.977, 0.820), ""),
        ("SimCLR", 300, (0.905, 0.650), (0.934, 0.693), ""),
        ("CPC", 100, (NA, NA), (NA, NA), "'–' in the paper: not fine-tuned (too slow)"),
        ("ECG-JEPA_rb", 100, (0.944, 0.710), (0.980, 0.821), ""),
        ("ECG-JEPA_mb", 100, (0.937, 0.680), (0.983, 0.799), ""),
    ]
    rows = []
    for method, epochs, ptbxl, cpsc, note in printed:
        for dataset, (auc, f1) in (("PTB-XL", ptbxl), ("CPSC2018", cpsc)):
            rows += _auc_f1("finetune", method, epochs, dataset, "multi-class", "", auc, f1, note=note)
    return rows


def _low_shot_rows():
    printed = [
        ("ST-MEM", 800, (0.807, 0.005), (0.872, 0.001)),
        ("SimCLR", 300, (0.803, 0.002), (0.843, 0.001)),
        ("CMSC", 300, (0.750, 0.008), (0.792, 0.001)),
        ("CPC", 100, (0.523, 0.006), (0.560, 0.005)),
        ("ECG-JEPA_rb", 100, (0.836, 0.006), (0.887, 0.000)),
        ("ECG-JEPA_mb", 100, (0.843, 0.004), (0.894, 0.003)),
    ]
    rows = []
    for method, epochs, one, ten in printed:
        for setting, (mean, sd), n in (("1%", one, 192), ("10%", ten, 1923)):
            rows.append(_row("low_shot", method, epochs, "PTB-XL", "multi-label", "AUC", setting, mean, sd,
                             note=f"{n} training records; mean ± sd over 3 draws"))
    return rows


def _reduced_leads_rows():
    printed = [
        ("ST-MEM", 800, (0.832, 0.571), (0.848, 0.597)),
        ("ECG-JEPA_rb", 100, (0.846, 0.596), (0.877, 0.647)),
        ("ECG-JEPA_mb", 100, (0.849, 0.593), (0.880, 0.657)),
    ]
    rows = []
    for method, epochs, lead_ii, leads_ii_v1 in printed:
        rows += _auc_f1("reduced_leads", method, epochs, "PTB-XL", "multi-label", "II", *lead_ii)
        rows += _auc_f1("reduced_leads", method, epochs, "PTB-XL", "multi-label", "II+V1", *leads_ii_v1)
    return rows


def _feature_regression_rows():
    printed = [
        ("ST-MEM", 800, (1.35, 2.38), (4.60, 4.16)),
        ("SimCLR", 300, (1.87, 2.81), (6.14, 5.80)),
        ("CMSC", 300, (7.20, 7.43), (10.12, 9.98)),
        ("CPC", 100, (11.40, 11.04), (11.55, 11.55)),
        ("ECG-JEPA_rb", 100, (1.54, 2.62), (4.81, 4.29)),
        ("ECG-JEPA_mb", 100, (1.45, 2.44), (4.41, 4.08)),
    ]
    table = "feature_regression"
    rows = []
    for method, epochs, hr, qrs in printed:
        rows.append(_row(table, method, epochs, "PTB-XL", "heart rate", "MAE", "", *hr, unit="bpm",
                         note="mean ± sd of |prediction - target| on the test set"))
        rows.append(_row(table, method, epochs, "PTB-XL", "QRS duration", "MAE", "", *qrs, unit="ms",
                         note="mean ± sd of |prediction - target| on the test set"))
    conflict = "HR label mean differs between versions: 70.01 (P-B) vs 75.01 (P-A), same sd; one is a typo (D5)"
    rows += [
        _row(table, "test labels", 0, "PTB-XL", "heart rate", "label mean", "P-B", 70.01, 17.65, unit="bpm",
             source="P-B Table 5 caption", note=conflict),
        _row(table, "test labels", 0, "PTB-XL", "heart rate", "label mean", "P-A", 75.01, 17.65, unit="bpm",
             source="P-A Table 6 last row", note=conflict),
        _row(table, "test labels", 0, "PTB-XL", "QRS duration", "label mean", "", 90.48, 17.02, unit="ms",
             note="labels from the Joung et al. 2024 delineation model"),
    ]
    return rows


def _cropa_rows():
    printed = [  # method (mask), CroPA, epochs, linear AUC, fine-tune AUC
        ("ECG-JEPA_rb", "no", 100, 0.888, 0.930),
        ("ECG-JEPA_rb", "no", 200, 0.887, 0.927),
        ("ECG-JEPA_rb", "yes", 100, 0.894, 0.944),
        ("ECG-JEPA_mb", "no", 100, 0.872, 0.924),
        ("ECG-JEPA_mb", "no", 200, 0.886, 0.914),
        ("ECG-JEPA_mb", "yes", 100, 0.896, 0.937),
    ]
    rows = []
    for method, cropa, epochs, linear, finetune in printed:
        for protocol, auc in (("linear", linear), ("finetune", finetune)):
            rows.append(_row("cropa_ablation", method, epochs, "PTB-XL", "multi-class", "AUC",
                             f"cropa={cropa}, {protocol}", auc))
    return rows


def _masking_rows():
    printed = [  # method (mask), ratio, frequency, AUC, F1, note
        ("ECG-JEPA_rb", "(0.3, 0.4)", 1, 0.884, 0.652, ""),
        ("ECG-JEPA_rb", "(0.4, 0.5)", 1, 0.904, 0.698, ""),
        ("ECG-JEPA_rb", "(0.5, 0.6)", 1, 0.906, 0.697, ""),
        ("ECG-JEPA_rb", "(0.6, 0.7)", 1, 0.906, 0.690, "chosen setting"),
        ("ECG-JEPA_rb", "(0.7, 0.8)", 1, 0.909, 0.706, "best here, worse on other tasks per the text"),
        ("ECG-JEPA_mb", "(0.10, 0.15)", 4, 0.904, 0.678, ""),
        ("ECG-JEPA_mb", "(0.15, 0.20)", 4, 0.905, 0.687, ""),
        ("ECG-JEPA_mb", "(0.175, 0.225)", 4, 0.912, 0.712, "chosen setting"),
    ]
    rows = []
    for method, ratio, freq, auc, f1, note in printed:
        rows += _auc_f1("masking", method, 100, "PTB-XL", "multi-label", f"ratio={ratio}, freq={freq}", auc, f1, note=note)
    return rows


def _leads_rows():
    return (
        _auc_f1("leads_8_vs_12", "ECG-JEPA_rb", 100, "PTB-XL", "multi-label", "8 leads", 0.906, 0.690)
        + _auc_f1("leads_8_vs_12", "ECG-JEPA_rb", 100, "PTB-XL", "multi-label", "12 leads", 0.905, 0.699)
    )


def _count_rows():
    table = "dataset_counts"
    ptbxl = {  # class: (total, train, test)
        "multi-label": {"all": (21388, 19230, 2158), "NORM": (9514, 8551, 963), "MI": (5469, 4919, 550),
                        "STTC": (5235, 4714, 521), "CD": (4898, 4402, 496), "HYP": (2649, 2387, 262)},
        "multi-class": {"all": (16244, 14594, 1650), "NORM": (9069, 8157, 912), "MI": (2532, 2276, 256),
                        "STTC": (2400, 2158, 242), "CD": (1708, 1524, 184), "HYP": (535, 479, 56)},
    }
    rows = []
    for task, classes in ptbxl.items():
        for cls, counts in classes.items():
            for split, n in zip(("total", "train", "test"), counts):
                rows.append(_row(table, "", 0, "PTB-XL", task, "records", f"{cls}/{split}", n,
                                 source="P-B Table 9 / P-A Tables 12-13"))
    rows.append(_row(table, "", 0, "PTB-XL", "all", "records", "printed total", 21799,
                     source="P-B Table 9 / P-A Tables 12-13",
                     note="all records of PTB-XL v1.0.3, not train + test (D2)"))
    cpsc_source = "P-B Table 10 / P-A Tables 14-15"
    cpsc_note = "per-class counts re-attributed to the SNOMED classes; the paper's headers are permuted (D1)"
    for task, (total, train, test) in (("multi-label", (6867, 5989, 878)), ("multi-class", (6391, 5577, 814))):
        for split, n in zip(("total", "train", "test"), (total, train, test)):
            rows.append(_row(table, "", 0, "CPSC2018", task, "records", f"all/{split}", n, source=cpsc_source))
    per_class = {  # class: (multi-label total, multi-class total)
        "NSR": (918, 918), "AF": (1220, 975), "LBBB": (235, 178), "STE": (220, 185), "I-AVB": (721, 685),
        "PAC": (614, 531), "PVC": (699, 606), "STD": (868, 783), "RBBB": (1854, 1530),
    }
    for cls, (ml, mc) in per_class.items():
        rows.append(_row(table, "", 0, "CPSC2018", "multi-label", "records", f"{cls}/total", ml, source=cpsc_source, note=cpsc_note))
        rows.append(_row(table, "", 0, "CPSC2018", "multi-class", "records", f"{cls}/total", mc, source=cpsc_source, note=cpsc_note))
    rows.append(_row(table, "", 0, "CPSC2018", "all", "records", "before the >= 10 s filter", 6877,
                     source="paper text (§2.8)", note="6,877 -> 6,867 after dropping records shorter than 10 s"))
    return rows


def _weimann_rows():
    """Weimann & Conrad's PTB-XL results, a different paper from Kim's: folds 1-8 train, 9 validation, 10 test;
    mean (sd) test AUC of 10 runs. "all" = all statements (multi-label); "ST-MEM" = single-label
    superdiagnostic records (multi-class). Their "linear" column is a frozen attentive probe."""
    printed = [  # method, pretraining data, (all: fine-tune, probe), (ST-MEM: fine-tune, probe); (value, sd)
        ("ViT-XS, JEPA (PTB-XL folds 1-8)", ((0.940, 0.001), (0.931, 0.002)), ((0.928, 0.002), (0.919, 0.002))),
        ("ViT-S, JEPA (All)", ((0.945, 0.001), (0.938, 0.002)), ((0.935, 0.002), (0.928, 0.003))),
        ("ViT-B, JEPA (All)", ((0.940, 0.001), (0.935, 0.001)), ((0.928, 0.003), (0.920, 0.002))),
        ("ViT-XS, random init", ((0.911, 0.004), (0.815, 0.010)), None),
    ]
    source = "Weimann & Conrad 2025, README of kweimann/ECG-JEPA (not Kim's paper)"
    rows = []
    for method, every, st_mem in printed:
        for task, cells in (("all", every), ("ST-MEM", st_mem)):
            for setting, (value, sd) in zip(("fine-tuned", "attentive probe"), cells or ()):
                trained = "no pretraining" if "random" in method else "pretrained 100k steps of 2,048 records"
                rows.append(_row("weimann", method, 0, "PTB-XL", task, "AUC", setting, value, sd, source=source,
                                 note=f"mean (sd) of 10 runs; {trained}"))
    return rows


def _segmentation_rows():
    """Kim's v5 segmentation numbers as secondary summaries quote them. Dataset, protocol and which classes
    the mean IoU covers are not confirmed; they sit beside our mIoU with "none" as the likelier reading."""
    note = "reported, unverified: dataset, protocol and the classes of the mean are not confirmed"
    task = "P/QRS/T segmentation"
    return [_row("segmentation", "ECG-JEPA_rb", 100, "LUDB", task, "mIoU", "fine-tuned", 0.954, note=note),
            _row("segmentation", "ECG-JEPA_rb", 100, "LUDB", task, "mIoU", "frozen", 0.888, note=note)]


def _build() -> pd.DataFrame:
    rows = (
        _linear_rows() + _finetune_rows() + _low_shot_rows() + _reduced_leads_rows()
        + _feature_regression_rows() + _cropa_rows() + _masking_rows() + _leads_rows() + _count_rows()
        + _weimann_rows() + _segmentation_rows()
    )
    return pd.DataFrame(rows, columns=COLUMNS)


PAPER = _build()


def paper_table(table: str) -> pd.DataFrame:
    """All rows of one table (a copy), e.g. ``paper_table("linear")``."""
    if table not in TABLES:
        raise KeyError(f"unknown paper table {table!r}; tables: {sorted(TABLES)}")
    return PAPER[PAPER["table"] == table].reset_index(drop=True)


def paper_cell(
    table: str,
    *,
    method: str | None = None,
    epochs: int | None = None,
    dataset: str | None = None,
    task: str | None = None,
    metric: str | None = None,
    setting: str | None = None,
) -> pd.Series:
    """The one row of ``table`` matching the given fields (None = not specified).

    Omitted fields may take any value as long as exactly one row matches; otherwise a
    ``KeyError`` names the field that failed and the values it could take.
    """
    key = {f: v for f, v in dict(method=method, epochs=epochs, dataset=dataset, task=task,
                                  metric=metric, setting=setting).items() if v is not None}
    rows = paper_table(table)
    for field, wanted in key.items():
        matching = rows[rows[field] == wanted]
        if matching.empty:
            raise KeyError(f"no cell in {table!r} with {field}={wanted!r} (given the other fields); "
                           f"available: {sorted(rows[field].unique().tolist(), key=str)}")
        rows = matching
    if len(rows) > 1:
        varying = [f for f in KEY[1:] if rows[f].nunique() > 1]
        raise KeyError(f"{len(rows)} cells of {table!r} match {key}; also specify "
                       + ", ".join(f"{f} (one of {sorted(rows[f].unique().tolist(), key=str)})" for f in varying))
    return rows.iloc[0]


def paper_value(table: str, **key) -> float:
    """The published number of one cell (keywords as ``paper_cell``), e.g.
    ``paper_value("linear", method="ECG-JEPA_mb", dataset="PTB-XL", task="multi-label", metric="AUC")``
    → 0.912. NaN means the paper prints "–"; see ``paper_cell`` for sd and notes.
    """
    return float(paper_cell(table, **key)["value"])
