"""Dense P/QRS/T labels from LUDB's cardiologist annotations, on the grid a model sees.

For each record and lead, every sample gets a class: 0 none, 1 P, 2 QRS, 3 T, or ``IGNORE`` (−1)
where the truth is unknown. A sample belongs to a wave when its time lies within the wave's
annotated [onset, offset] (both inclusive), so at 500 Hz the labels are the annotation samples
themselves and at 250 Hz onset ``o`` becomes ``ceil(o / 2)`` and offset ``f`` becomes ``floor(f / 2)``.

* **Annotated span.** LUDB leaves roughly the first and last second of each record unannotated,
  lead by lead. A lead's span runs from the onset of its first complete wave to the offset of its
  last one (taken from the annotations, not a fixed margin); outside it every sample is IGNORE.
* **Bad waves.** :func:`~ecgjepa_core.data.ludb.waves_from_annotation` pairs each peak with the
  nearest ``(`` before and ``)`` after it. A wave without onset or offset, or one that overlaps the
  previous complete wave, is not painted: from the end of the previous complete wave to the start
  of the next one the samples are IGNORE (its extent is unknown, so "none" would be wrong). A
  bracket used by no wave (``()`` without peak, nested brackets) is counted too. Every such case
  is a row of ``issues`` with its reason; nothing is dropped silently.

Every painted run is a complete annotated wave, so both its ends are cardiologists' boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecgjepa_core.data.ludb import FS as LUDB_FS, LudbReader, read_annotation, waves_from_annotation
from ecgjepa_core.data.preprocess import Recipe
from ecgjepa_core.data.records import RecordError, STANDARD_12_LEADS

CLASSES: tuple[str, ...] = ("none", "P", "QRS", "T")
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES)}
IGNORE = -1
ISSUE_COLUMNS = ["record_id", "lead", "wave", "sample", "reason"]


@dataclass(frozen=True)
class LeadLabels:
    """One lead: ``labels`` (T,) int8 in {−1, 0, 1, 2, 3}; ``span`` (start, stop) samples, stop exclusive."""

    labels: np.ndarray
    span: tuple[int, int]
    issues: list[dict]


def _to_grid(sample: int, scale: float, side: str) -> int:
    """Annotation sample at 500 Hz → first (``onset``) or last (``offset``) grid sample inside the wave."""
    t = sample * scale
    return math.ceil(t - 1e-9) if side == "onset" else math.floor(t + 1e-9)


def lead_labels(symbols: list[str], samples: np.ndarray, n_samples: int, fs: float,
                record_id: str = "", lead: str = "") -> LeadLabels:
    """Dense labels (n_samples,) at ``fs`` Hz of one lead from its WFDB annotation (symbols, 500 Hz samples).

    The grid covers the first ``n_samples / fs`` seconds; waves reaching beyond it are cut at its end.
    """
    scale = fs / LUDB_FS
    waves = waves_from_annotation(symbols, np.asarray(samples))
    issues: list[dict] = []

    def issue(wave: str, sample, reason: str) -> None:
        issues.append({"record_id": record_id, "lead": lead, "wave": wave,
                       "sample": None if pd.isna(sample) else int(sample), "reason": reason})

    complete, last_offset = [], -1
    for row in waves.itertuples(index=False):
        if row.wave not in CLASS_INDEX or row.wave == "none":
            issue(str(row.wave), row.peak, "unknown_wave_symbol")
        elif pd.isna(row.onset) and pd.isna(row.offset):
            issue(row.wave, row.peak, "missing_onset_and_offset")
        elif pd.isna(row.onset):
            issue(row.wave, row.peak, "missing_onset")
        elif pd.isna(row.offset):
            issue(row.wave, row.peak, "missing_offset")
        elif row.onset <= last_offset:
            issue(row.wave, row.peak, "overlaps_previous_wave")
        else:
            complete.append((CLASS_INDEX[row.wave], int(row.onset), int(row.offset)))
            last_offset = int(row.offset)
            continue
        complete.append((IGNORE, None, None))  # a wave of unknown extent: a gap in the truth
    n_open, n_close = symbols.count("("), symbols.count(")")
    for bracket, total, used in (("(", n_open, waves["onset"].notna().sum()),
                                 (")", n_close, waves["offset"].notna().sum())):
        for _ in range(int(total - used)):
            issue(bracket, None, "unpaired_bracket")

    labels = np.full(n_samples, IGNORE, dtype=np.int8)
    known = [(c, _to_grid(on, scale, "onset"), min(_to_grid(off, scale, "offset"), n_samples - 1))
             for c, on, off in complete if c != IGNORE and _to_grid(on, scale, "onset") < n_samples]
    if not known:
        return LeadLabels(labels, (0, 0), issues)
    start, stop = known[0][1], known[-1][2] + 1
    labels[start:stop] = CLASS_INDEX["none"]
    # Gaps: between the complete waves around each bad one, the truth is unknown.
    for k, (c, _, _) in enumerate(complete):
        if c != IGNORE:
            continue
        before = [w for w in complete[:k] if w[0] != IGNORE]
        after = [w for w in complete[k + 1:] if w[0] != IGNORE]
        gap_start = _to_grid(before[-1][2], scale, "offset") + 1 if before else start
        gap_stop = _to_grid(after[0][1], scale, "onset") if after else stop
        labels[max(gap_start, start):min(gap_stop, stop)] = IGNORE
    for c, on, off in known:
        labels[on:off + 1] = c
    return LeadLabels(labels, (start, stop), issues)


def read_lead_annotation(root: Path | str, record_id: str, lead: str) -> tuple[list[str], np.ndarray]:
    """(symbols, samples at 500 Hz) of one lead's annotation file ``data/<record>.<lead>``."""
    return read_annotation(Path(root) / "data" / str(record_id), lead, LUDB_FS)


def record_labels(root: Path | str, record_id: str, leads: tuple[str, ...], n_samples: int,
                  fs: float) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Labels (L, n_samples) int8, spans (L, 2) int and the issues table of one record's ``leads``."""
    per_lead = [lead_labels(*read_lead_annotation(root, record_id, lead), n_samples, fs, str(record_id), lead)
                for lead in leads]
    issues = pd.DataFrame([i for ll in per_lead for i in ll.issues], columns=ISSUE_COLUMNS)
    return (np.stack([ll.labels for ll in per_lead]), np.array([ll.span for ll in per_lead]), issues)


@dataclass
class SegmentationSet:
    """LUDB records prepared for segmentation, rows in ``record_ids`` order.

    ``x`` (N, L, T) float32 after the recipe; ``y`` (N, L, T) int8 dense labels at ``fs``;
    ``spans`` (N, L, 2); ``issues``: one row per bad annotation (record_id, lead, wave, sample at
    500 Hz, reason); ``skipped``: record_id → reason for records the recipe rejected.
    """

    record_ids: list[str]
    x: np.ndarray
    y: np.ndarray
    spans: np.ndarray
    leads: tuple[str, ...]
    fs: float
    issues: pd.DataFrame
    skipped: dict[str, str]

    def rows(self, record_ids: list[str]) -> np.ndarray:
        """Row indices of ``record_ids`` (KeyError naming any that is absent or was skipped)."""
        position = {r: i for i, r in enumerate(self.record_ids)}
        missing = [r for r in record_ids if r not in position]
        if missing:
            raise KeyError(f"LUDB records {missing} not in this set (skipped: "
                           f"{ {r: self.skipped[r] for r in missing if r in self.skipped} })")
        return np.array([position[r] for r in record_ids], dtype=int)


def load_segmentation_set(root: Path | str, recipe: Recipe, leads: tuple[str, ...],
                          record_ids: list[str] | None = None) -> SegmentationSet:
    """Signals through ``recipe`` (then rows ``leads``) and their dense labels at the recipe's rate.

    ``recipe`` must crop to whole seconds (LUDB records are 10 s); its rate is
    ``n_samples / crop_seconds``. Records the recipe rejects are listed in ``skipped``.
    """
    if recipe.crop_seconds is None:
        raise ValueError("segmentation needs a recipe with crop_seconds set (the label grid is derived from it)")
    unknown = [lead for lead in leads if lead not in STANDARD_12_LEADS]
    if unknown or not set(leads) <= set(recipe.lead_names):
        raise ValueError(f"leads {list(leads)} must be among the recipe's {list(recipe.lead_names)}")
    fs = recipe.n_samples / recipe.crop_seconds
    reader = LudbReader(root)
    ids = [str(r) for r in (record_ids or reader.index()["record_id"].tolist())]
    rows = [recipe.lead_names.index(lead) for lead in leads]
    xs, ys, spans, issues, kept, skipped = [], [], [], [], [], {}
    for rid in ids:
        try:
            x = recipe.apply(reader.read(rid)).astype(np.float32)[rows]
        except RecordError as err:
            skipped[rid] = err.reason
            continue
        y, span, bad = record_labels(root, rid, leads, recipe.n_samples, fs)
        xs.append(x), ys.append(y), spans.append(span), issues.append(bad), kept.append(rid)
    if not kept:
        raise ValueError(f"{root}: no usable LUDB record among {len(ids)} (skipped: {skipped})")
    issues = [i for i in issues if not i.empty]
    issues = pd.concat(issues, ignore_index=True) if issues else pd.DataFrame(columns=ISSUE_COLUMNS)
    return SegmentationSet(kept, np.stack(xs), np.stack(ys), np.stack(spans), tuple(leads), fs, issues, skipped)


def issue_counts(issues: pd.DataFrame) -> pd.DataFrame:
    """Bad annotations by reason and wave: columns reason, wave, count, records."""
    if issues.empty:
        return pd.DataFrame(columns=["reason", "wave", "count", "records"])
    grouped = issues.groupby(["reason", "wave"])
    return grouped.agg(count=("lead", "size"), records=("record_id", "nunique")).reset_index()


def ludb_split(validation: tuple[int, int] = (81, 100)) -> dict[str, list[str]]:
    """The fixed split: train records 1–100 less the validation block (default 81–100), test 101–200."""
    lo, hi = validation
    if not 1 <= lo <= hi <= 100:
        raise ValueError(f"validation records must lie within 1-100, got {validation}")
    return {"train": [str(i) for i in range(1, 101) if not lo <= i <= hi],
            "val": [str(i) for i in range(lo, hi + 1)],
            "test": [str(i) for i in range(101, 201)]}


def pipeline_check_split(record_ids: list[str]) -> dict[str, list[str]]:
    """A split of a handful of records (the shipped sample) for pipeline checks only:
    the first record trains, the second selects the epoch, the rest are test. Needs ≥ 3 records."""
    ids = sorted((str(r) for r in record_ids), key=int)
    if len(ids) < 3:
        raise ValueError(f"a pipeline-check split needs at least 3 records, got {ids}")
    return {"train": ids[:1], "val": ids[1:2], "test": ids[2:]}
