"""Rows that pool several pretraining runs: their sd is over runs and their intervals redraw the runs too."""

from __future__ import annotations

import numpy as np
import pytest

from ecgjepa_core.evaluation import resampled as R
from ecgjepa_core.evaluation.scoring import metric_functions
from ecgjepa_core.report import claims
from ecgjepa_core.report.results import CI_OVER_RUNS, ML, TableResult, TestScores, classification_cells, to_frame
from ecgjepa_core.study.tables import over_runs


def _runs(n: int = 120, shifts=(0.0, 0.8, 1.6), probe_seeds: int = 2, seed: int = 0):
    """Multi-label targets and per-run scores: each run adds its own signal strength ``shift``."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 3)) < 0.4).astype(int)
    per_run = []
    for shift in shifts:
        scores = np.stack([y * shift + rng.normal(size=y.shape) for _ in range(probe_seeds)])
        per_run.append(TestScores(y, scores, np.arange(n)))
    return y, per_run


def test_over_runs_tags_every_score_set_with_its_run():
    y, per_run = _runs()
    pooled = over_runs(per_run)
    assert pooled.scores.shape == (6, len(y), 3) and pooled.groups.tolist() == [0, 0, 1, 1, 2, 2]
    assert pooled.n_runs == 3 and over_runs(per_run[:1]).groups is None
    moved = TestScores(y, per_run[1].scores, np.arange(len(y)) + 1)
    with pytest.raises(ValueError, match="different records"):
        over_runs([per_run[0], moved])


def test_one_run_or_identical_runs_give_the_plain_seed_mean_interval():
    y, per_run = _runs()
    weights = R.bootstrap_counts(len(y), 200, 4)
    plain = R.seed_mean_resampled("multilabel", "auc", y, per_run[1].scores, weights)
    np.testing.assert_array_equal(R.nested_seed_mean_resampled("multilabel", "auc", y, per_run[1].scores, None,
                                                               weights, 9), plain)
    same = over_runs([per_run[1], per_run[1], per_run[1]])  # redrawing identical runs changes nothing
    np.testing.assert_allclose(R.nested_seed_mean_resampled("multilabel", "auc", y, same.scores, same.groups,
                                                            weights, 9), plain, atol=1e-12)


def test_runs_that_differ_widen_the_interval():
    y, per_run = _runs()
    pooled = over_runs(per_run)
    weights = R.bootstrap_counts(len(y), 1000, 4)
    flat = R.seed_mean_resampled("multilabel", "auc", y, pooled.scores, weights)
    nested = R.nested_seed_mean_resampled("multilabel", "auc", y, pooled.scores, pooled.groups, weights, 9)
    assert np.std(nested) > 1.5 * np.std(flat)
    again = R.nested_seed_mean_resampled("multilabel", "auc", y, pooled.scores, pooled.groups, weights, 9)
    np.testing.assert_array_equal(nested, again)  # seeded


def test_cells_of_several_runs_state_the_sd_over_runs_and_the_nested_interval():
    y, per_run = _runs()
    pooled = over_runs(per_run)
    cells = {c["metric"]: c for c in classification_cells(ML, y, pooled.scores, 3, 300, 0, "probe seeds",
                                                          pooled.groups)}
    auc = cells["AUC"]
    per_run_auc = [np.mean([metric_functions("multilabel")["auc"](y, s) for s in r.scores]) for r in per_run]
    assert auc["n_runs"] == 3 and auc["sd_over"] == "pretraining seeds" and auc["ci_over"] == CI_OVER_RUNS.format(runs="pretraining seeds")
    assert auc["sd"] == pytest.approx(np.std(per_run_auc)) and auc["ours"] == pytest.approx(np.mean(per_run_auc))
    assert auc["ci_low"] < min(per_run_auc[1], auc["ours"]) and auc["ci_high"] > auc["ours"]
    single = classification_cells(ML, y, per_run[0].scores, 3, 300, 0, "probe seeds")[0]
    assert single["sd_over"] == "probe seeds" and single["n_runs"] == 2


def test_paired_claims_keep_the_runs_and_account_for_them(tmp_path):
    y, per_run = _runs(shifts=(0.6, 1.0, 1.4))
    _, rival = _runs(shifts=(0.9, 1.0, 1.1), seed=1)
    rival = [TestScores(y, r.scores, r.rows) for r in rival]
    a, b = over_runs(per_run), over_runs(rival)
    rows = []
    for method, scores in (("A", a), ("B", b)):
        for cell in classification_cells(ML, y, scores.scores, 3, 200, 0, "probe seeds", scores.groups):
            rows.append({"method": method, "encoder": "", "dataset": "PTB-XL", "task": ML, "split": "paper split",
                         "protocol": "linear", "ablation": "", **cell, "paper_key": None})
    frame = to_frame(None, rows)
    result = TableResult("t", frame, {claims.row_key(r): s for r, s in zip(
        [frame[(frame.method == m) & (frame.metric == "AUC")].iloc[0] for m in ("A", "B")], (a, b))})
    claims.save_test_scores(tmp_path, result)
    kept = claims.load_test_scores(tmp_path, "t")
    assert [k.groups.tolist() for k in kept.values()] == [[0, 0, 1, 1, 2, 2]] * 2
    ra, rb = (frame[(frame.method == m) & (frame.metric == "AUC")].iloc[0] for m in ("A", "B"))
    nested = claims.paired_difference(kept, ra, rb, 1000, 0).difference
    flat_kept = {k: TestScores(v.y, v.scores, v.rows) for k, v in kept.items()}
    flat = claims.paired_difference(flat_kept, ra, rb, 1000, 0).difference
    assert nested.point == pytest.approx(flat.point)
    assert (nested.high - nested.low) > 1.3 * (flat.high - flat.low)  # a's runs differ widely: the run draw shows
