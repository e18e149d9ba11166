"""Segmentation and delineation metrics on constructed cases, and neurokit2's delineator on a real record."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.data.ludb_segmentation import IGNORE, load_segmentation_set
from ecgjepa_core.data.records import JEPA_8_LEADS
from ecgjepa_core.evaluation.delineation import (METRICS, drop_short_runs, match_boundaries, metric_rows,
                                                 neurokit_labels, paired_difference, stats_table, summarise,
                                                 wave_runs)
from ecgjepa_core.paths import SAMPLE_DIR
from ecgjepa_core.study.profiles import STUDY_RAW

FS = 250.0


def beats(n_samples: int = 2500, period: int = 200, shift: int = 0, skip: tuple[int, ...] = ()) -> np.ndarray:
    """A lead of labels: every ``period`` samples P (20), gap, QRS (25), gap, T (40), shifted by ``shift``."""
    y = np.zeros(n_samples, dtype=np.int8)
    for k, start in enumerate(range(20, n_samples - period, period)):
        if k in skip:
            continue
        s = start + shift
        y[s:s + 20], y[s + 35:s + 60], y[s + 100:s + 140] = 1, 2, 3
    return y


def table(truth: list[np.ndarray], pred: list[np.ndarray]) -> pd.DataFrame:
    """One record per (truth, pred) lead pair, each a record of one lead."""
    return stats_table(np.stack(truth)[:, None], np.stack(pred)[:, None], [str(i) for i in range(len(truth))], FS)


def test_perfect_prediction():
    y = beats()
    got = summarise(table([y, y], [y, y]))
    for w in ("P", "QRS", "T"):
        assert got[f"iou_{w}"] == 1.0
        for e in ("onset", "offset"):
            assert got[f"{w}_{e}_sensitivity"] == 1.0 and got[f"{w}_{e}_ppv"] == 1.0
            assert got[f"{w}_{e}_error_mean_ms"] == 0.0 and got[f"{w}_{e}_error_sd_ms"] == 0.0
    assert got["miou_waves"] == got["miou_all"] == 1.0


def test_shift_is_the_error():
    truth, pred = beats(), beats(shift=3)  # 3 samples at 250 Hz = +12 ms
    got = summarise(table([truth], [pred]))
    for w in ("P", "QRS", "T"):
        for e in ("onset", "offset"):
            assert got[f"{w}_{e}_error_mean_ms"] == pytest.approx(12.0)
            assert got[f"{w}_{e}_error_sd_ms"] == pytest.approx(0.0, abs=1e-9)
            assert got[f"{w}_{e}_sensitivity"] == 1.0 and got[f"{w}_{e}_ppv"] == 1.0
    assert got["iou_QRS"] == pytest.approx(22 / 28)  # 25-sample runs overlapping by 22
    # Beyond the 150 ms tolerance a boundary is both missed and false.
    far = summarise(table([truth], [beats(shift=40)]))  # 160 ms
    assert far["QRS_onset_sensitivity"] == 0.0 and far["QRS_onset_ppv"] == 0.0


def test_missed_and_extra_waves():
    truth = beats()
    n_beats = len([r for r in wave_runs(truth) if r[0] == 2])
    missed = summarise(table([truth], [beats(skip=(2, 5))]))
    assert missed["QRS_onset_sensitivity"] == pytest.approx((n_beats - 2) / n_beats)
    assert missed["QRS_onset_ppv"] == 1.0 and missed["QRS_offset_error_mean_ms"] == 0.0
    extra = summarise(table([beats(skip=(2, 5))], [truth]))
    assert extra["QRS_onset_sensitivity"] == 1.0
    assert extra["QRS_onset_ppv"] == pytest.approx((n_beats - 2) / n_beats)


def test_unknown_truth_is_not_scored():
    truth = beats()
    truth[:300] = IGNORE  # e.g. outside the annotated span
    pred = beats()  # predicts waves there too: not false positives, and not in the IoU
    got = summarise(table([truth], [pred]))
    assert got["QRS_onset_ppv"] == 1.0 and got["iou_P"] == 1.0


def test_matching_is_one_to_one_closest_first():
    tp, fn, fp, err = match_boundaries(np.array([100.0, 200.0]), np.array([190.0, 205.0, 400.0]), 150.0)
    assert (tp, fn, fp) == (2, 0, 1)
    assert sorted(err.tolist()) == [5.0, 90.0]  # 205 pairs with 200 first, then 190 with 100


def test_short_runs_are_dropped():
    y = np.array([0, 2, 0, 0, 2, 2, 2, 2, 2, 2, 0], dtype=np.int8)
    assert drop_short_runs(y, fs=250.0, min_ms=20.0).tolist() == [0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0]


def test_bootstrap_rows_and_paired_difference():
    rng = np.random.default_rng(0)
    truth = [beats() for _ in range(12)]
    noisy = [beats(shift=int(s)) for s in rng.integers(-6, 7, 12)]
    rows = metric_rows(table(truth, noisy), n_boot=200, seed=0)
    assert list(rows["metric"]) == list(METRICS) and (rows["n_records"] == 12).all()
    for r in rows.itertuples():
        assert r.ci_low <= r.value + 1e-9 and r.value <= r.ci_high + 1e-9
    a, b = table(truth, truth), table(truth, noisy)
    diff = paired_difference(a, b, "miou_waves", n_boot=200)
    assert diff["difference"] > 0 and diff["ci_low"] > 0 and diff["p_a_wins"] == 1.0
    same = paired_difference(b, b, "miou_waves", n_boot=50)
    assert same["difference"] == same["ci_low"] == same["ci_high"] == 0.0


def test_neurokit_delineator_scored_on_a_real_record():
    data = load_segmentation_set(SAMPLE_DIR / "ludb", replace(STUDY_RAW, dtype="float32"), JEPA_8_LEADS, ["1"])
    pred, failures = neurokit_labels(data.x, data.fs)
    assert pred.shape == data.y.shape and failures == []
    got = summarise(stats_table(data.y, pred, data.record_ids, data.fs))
    # A classical delineator finds most QRS complexes of a sinus-rhythm record within 150 ms.
    assert got["QRS_offset_sensitivity"] > 0.7 and got["iou_QRS"] > 0.3
