"""Dense P/QRS/T labels from LUDB annotations: checked against wfdb.rdann on a real record, and the
counting of bad annotations on constructed ones."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import wfdb

from ecgjepa_core.data.ludb_segmentation import (IGNORE, issue_counts, lead_labels, load_segmentation_set,
                                                 ludb_split, pipeline_check_split, record_labels)
from ecgjepa_core.data.records import JEPA_8_LEADS
from ecgjepa_core.paths import SAMPLE_DIR
from ecgjepa_core.study.profiles import STUDY_RAW

LUDB = SAMPLE_DIR / "ludb"  # real LUDB records 1, 2 and 7, unchanged


def _complete_waves(record: str, lead: str) -> list[tuple[str, int, int]]:
    """(symbol, onset, offset) of every ``( x )`` triple in the raw annotation, read with wfdb directly."""
    ann = wfdb.rdann(str(LUDB / "data" / record), lead)
    s, x = list(ann.symbol), list(ann.sample)
    return [(s[k + 1], x[k], x[k + 2]) for k in range(len(s) - 2)
            if s[k] == "(" and s[k + 1] in "pNt" and s[k + 2] == ")"]


@pytest.mark.parametrize("fs", [500.0, 250.0])
def test_labels_match_rdann_onsets_and_offsets(fs):
    labels, spans, issues = record_labels(LUDB, "1", ("II", "V1"), int(10 * fs), fs)
    scale = fs / 500.0
    cls = {"p": 1, "N": 2, "t": 3}
    for row, lead in enumerate(("ii", "v1")):
        waves = _complete_waves("1", lead)
        assert len(waves) > 12
        for symbol, onset, offset in waves[2:8]:  # a few waves inside the annotated span
            first, last = math.ceil(onset * scale), math.floor(offset * scale)
            assert labels[row, first] == cls[symbol] and labels[row, last] == cls[symbol]
            assert labels[row, first - 1] != cls[symbol] and labels[row, last + 1] != cls[symbol]
            assert (labels[row, first:last + 1] == cls[symbol]).all()
        # The span starts at the first complete wave's onset; before it the truth is unknown.
        assert spans[row, 0] == math.ceil(waves[0][1] * scale)
        assert (labels[row, :spans[row, 0]] == IGNORE).all() and (labels[row, spans[row, 1]:] == IGNORE).all()
        assert labels[row, spans[row, 0]:spans[row, 1]].min() >= 0
    assert issues.empty


def test_bad_waves_are_counted_and_left_unknown():
    # P ok, QRS without onset, a stray "()", T ok, P without offset, QRS ok, T ok.
    symbols = list("(p)") + ["N", ")"] + list("()") + list("(t)") + ["(", "p"] + list("(N)") + list("(t)")
    samples = np.array([10, 20, 30, 60, 70, 75, 76, 100, 120, 140, 200, 210, 260, 270, 280, 300, 330, 360])
    got = lead_labels(symbols, samples, 400, 500.0, "x", "II")
    reasons = sorted(i["reason"] for i in got.issues)
    assert reasons == ["missing_offset", "missing_onset", "unpaired_bracket", "unpaired_bracket"]
    y = got.labels
    assert got.span == (10, 361)
    # The QRS without onset: unknown from the end of the complete wave before it to the start of the next.
    assert (y[10:31] == 1).all() and (y[31:100] == IGNORE).all()
    assert (y[100:141] == 3).all()
    assert (y[141:260] == IGNORE).all()  # P without offset: unknown until the next complete wave
    assert (y[260:281] == 2).all() and (y[281:300] == 0).all() and (y[300:361] == 3).all()


def test_overlapping_wave_is_reported():
    symbols = list("(N)") + list("(t)")
    got = lead_labels(symbols, np.array([100, 110, 130, 125, 160, 200]), 300, 500.0)
    assert [i["reason"] for i in got.issues] == ["overlaps_previous_wave"]


def test_segmentation_set_of_the_sample():
    recipe = replace(STUDY_RAW, dtype="float32")
    data = load_segmentation_set(LUDB, recipe, JEPA_8_LEADS)
    assert data.record_ids == ["1", "2", "7"] and data.fs == 250.0
    assert data.x.shape == data.y.shape == (3, 8, 2500) and data.x.dtype == np.float32
    assert set(np.unique(data.y)) <= {IGNORE, 0, 1, 2, 3}
    # Record 7 has QRS complexes without onset in V1-V3 (``N)`` and ``N()``): counted, not dropped.
    counts = issue_counts(data.issues)
    qrs = counts[(counts.reason == "missing_onset") & (counts.wave == "QRS")]
    assert int(qrs["count"].iloc[0]) > 0 and set(data.issues["record_id"]) == {"7"}


def test_fixed_split():
    split = ludb_split()
    assert [len(split[k]) for k in ("train", "val", "test")] == [80, 20, 100]
    assert set(split["train"]).isdisjoint(split["val"]) and split["test"][0] == "101" and split["test"][-1] == "200"
    assert pipeline_check_split(["7", "1", "2"]) == {"train": ["1"], "val": ["2"], "test": ["7"]}
    with pytest.raises(ValueError, match="at least 3"):
        pipeline_check_split(["1", "2"])
