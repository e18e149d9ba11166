"""Claims are judged by a paired bootstrap on the kept test scores, and only on comparable rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.report import claims
from ecgjepa_core.report.markdown import compare_with_paper

SETTING = {"dataset": "PTB-XL", "task": "multi-label", "metric": "AUC", "setting": "paper split"}


def _scores(seed: int = 0, n: int = 400, noise: tuple[float, float] = (1.0, 1.3)):
    """Targets (n, 3) and two models' logits; the first is less noisy, i.e. better on most records."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 3)) < 0.3).astype(np.int64)
    shared = rng.normal(size=(n, 3))  # both models find the same records hard: what pairing exploits
    return y, y + noise[0] * shared, y + noise[1] * shared + 0.3 * rng.normal(size=(n, 3))


def _write_run(tmp_path, y, s_a, s_b, method_b="Random init"):
    from ecgjepa_core.evaluation.scoring import bootstrap_cis, evaluate_scores

    rows, kept = [], {}
    for method, s in (("ECG-JEPA_rb", s_a), (method_b, s_b)):
        ci = bootstrap_cis("multilabel", y, s, 500, 0, names=("auc",))["auc"]
        rows.append(dict(method=method, **SETTING, ours=evaluate_scores("multilabel", y, s)["auc"], sd=0.0,
                         n_runs=3, ci_low=ci.low, ci_high=ci.high))
        kept[(method, "PTB-XL", "multi-label", "paper split")] = {"scores": (y, s), "rows": np.arange(len(y))}
    compare_with_paper("linear", rows).to_csv(tmp_path / "table1_linear.csv", index=False)
    claims.save_test_scores(tmp_path, "table1_linear", kept)
    return pd.DataFrame(rows)


def test_test_scores_round_trip(tmp_path):
    y, a, b = _scores(n=20)
    kept = {("m", "PTB-XL", "multi-label", "paper split"): {"scores": (y, a), "rows": np.arange(20) * 3},
            ("no scores kept", "x", "y", "z"): {}}
    claims.save_test_scores(tmp_path, "t", kept)
    back = claims.load_test_scores(tmp_path, "t")
    assert list(back) == [("m", "PTB-XL", "multi-label", "paper split")]
    got = back[("m", "PTB-XL", "multi-label", "paper split")]
    np.testing.assert_array_equal(got.y, y)
    np.testing.assert_array_equal(got.scores, a)
    np.testing.assert_array_equal(got.rows, np.arange(20) * 3)
    assert claims.load_test_scores(tmp_path, "absent") == {}


def test_pairing_resolves_a_difference_the_separate_intervals_cannot(tmp_path):
    y, a, b = _scores()
    table = _write_run(tmp_path, y, a, b)
    assert table.ci_low[0] < table.ci_high[1]  # the rows' own intervals overlap ...
    text = claims.claims_section(tmp_path, n_boot=500)
    line = next(x for x in text.splitlines() if x.startswith("- **Pretraining beats random initialisation (rb, linear)"))
    assert ": holds." in line and "Paired difference on the first seed's 400 test records: +" in line  # ... pairing does not
    assert "At full scale:" in line


@pytest.mark.parametrize("swap,expected", [(False, "holds"), (True, "contradicted")])
def test_verdict_follows_the_paired_interval(tmp_path, swap, expected):
    y, a, b = _scores(noise=(0.5, 2.0))
    _write_run(tmp_path, y, *((b, a) if swap else (a, b)))
    line = next(x for x in claims.claims_section(tmp_path, n_boot=300).splitlines() if "(rb, linear)" in x)
    assert f": {expected}." in line


def test_identical_models_are_inconclusive_and_twelve_leads_claim_inverts():
    y, a, _ = _scores(n=100)
    row = pd.Series(dict(method="m", dataset="PTB-XL", task="multi-label", metric="AUC", setting="s"))
    kept = {("m", "PTB-XL", "multi-label", "s"): claims.TestScores(y, a, np.arange(100))}
    c = claims.paired_difference(kept, row, row, n_boot=200, seed=0)
    assert c.difference.point == c.difference.low == c.difference.high == 0.0 and c.outcome == "unresolved"
    twelve = next(c for c in claims.CLAIMS if not c.a_should_win)
    assert claims.verdict(twelve, "unresolved") == "holds (no difference resolved)"
    assert claims.verdict(twelve, "a better") == "contradicted"


def test_rows_scored_on_different_records_are_refused():
    y, a, b = _scores(n=50)
    rows = [pd.Series(dict(method=m, dataset="PTB-XL", task="multi-label", metric="AUC", setting="s")) for m in "ab"]
    kept = {("a", "PTB-XL", "multi-label", "s"): claims.TestScores(y, a, np.arange(50)),
            ("b", "PTB-XL", "multi-label", "s"): claims.TestScores(y, b, np.arange(50) + 1)}
    with pytest.raises(ValueError, match="not scored on the same test records"):
        claims.paired_difference(kept, *rows, n_boot=10, seed=0)
    with pytest.raises(ValueError, match="no kept test scores"):
        claims.paired_difference({}, *rows, n_boot=10, seed=0)


def test_claims_say_what_was_not_measured(tmp_path):
    text = claims.claims_section(tmp_path, n_boot=10)
    assert "not measured (table1_linear was not produced in this run)" in text
    y, a, b = _scores(n=50)
    _write_run(tmp_path, y, a, b)
    (tmp_path / "scores" / "table1_linear.npz").unlink()
    assert "not measured (no kept test scores" in claims.claims_section(tmp_path, n_boot=10)


def test_every_claim_names_metrics_the_tables_produce():
    for claim in claims.CLAIMS:
        metric = {**claim.where, **claim.a}.get("metric")
        assert metric in {"AUC", "AUC (one-vs-rest)", "AUC (one-vs-one)"}, claim.text
