"""Claims are judged by a paired bootstrap on the kept test scores, and only on comparable rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.report import claims
from ecgjepa_core.report.results import TableResult, TestScores, classification_cells, row_key, to_frame

WHERE = dict(encoder="e", dataset="PTB-XL", task="multi-label", split="paper split", protocol="linear", ablation="")


def _scores(seed: int = 0, n: int = 400, noise: tuple[float, float] = (1.0, 1.3), seeds: int = 2):
    """Targets (n, 3) and two models' logits (seeds, n, 3); the first is less noisy on most records."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 3)) < 0.3).astype(np.int64)
    shared = rng.normal(size=(n, 3))  # both models find the same records hard: what pairing exploits
    a = np.stack([y + noise[0] * shared + 0.05 * rng.normal(size=(n, 3)) for _ in range(seeds)])
    b = np.stack([y + noise[1] * shared + 0.3 * rng.normal(size=(n, 3)) for _ in range(seeds)])
    return y, a, b


MB_VS_RB = "Multi-block masking beats random masking (linear)"  # a: mb, b: rb; the helper's rb is the better one


def _write_run(tmp_path, y, s_a, s_b, method_b="ECG-JEPA_mb", flags_b=""):
    result = TableResult("table1_linear")
    rows = []
    for method, s, flags in (("ECG-JEPA_rb", s_a, ""), (method_b, s_b, flags_b)):
        key = {"method": method, **WHERE}
        result.scores[row_key(key)] = TestScores(y, s, np.arange(len(y)))
        for cell in classification_cells("multi-label", y, s, 3, 300, 0, "probe seeds"):
            rows.append({**key, **cell, "flags": flags or cell["flags"], "paper_key": None})
    result.rows = to_frame("linear", rows)
    result.rows.to_csv(tmp_path / "table1_linear.csv", index=False)
    claims.save_test_scores(tmp_path, result, {"seed": 0})
    return result.rows


def test_test_scores_round_trip(tmp_path):
    y, a, _ = _scores(n=20)
    key = row_key({"method": "m", **WHERE})
    claims.save_test_scores(tmp_path, TableResult("t", scores={key: TestScores(y, a, np.arange(20) * 3)}))
    back = claims.load_test_scores(tmp_path, "t")
    assert list(back) == [key]
    np.testing.assert_array_equal(back[key].scores, a)
    np.testing.assert_array_equal(back[key].rows, np.arange(20) * 3)
    assert claims.load_test_scores(tmp_path, "absent") == {}


def test_pairing_resolves_a_difference_the_separate_intervals_cannot(tmp_path):
    y, a, b = _scores()
    table = _write_run(tmp_path, y, a, b)
    auc = table[table.metric == "AUC"].reset_index(drop=True)
    assert auc.ci_low[0] < auc.ci_high[1]  # the rows' own intervals overlap ...
    text = claims.claims_section(tmp_path, n_boot=500)
    line = next(x for x in text.splitlines() if x.startswith(f"- **{MB_VS_RB}"))
    assert ": contradicted." in line and "Paired difference on 400 test records: -" in line  # ... pairing does not
    assert "\n  - At full scale:" in text


@pytest.mark.parametrize("swap,expected", [(False, "contradicted"), (True, "holds")])
def test_verdict_follows_the_paired_interval(tmp_path, swap, expected):
    y, a, b = _scores(noise=(0.5, 2.0))
    _write_run(tmp_path, y, *((b, a) if swap else (a, b)))
    line = next(x for x in claims.claims_section(tmp_path, n_boot=300).splitlines() if MB_VS_RB in x)
    assert f": {expected}." in line


def _comparison(low: float, high: float) -> claims.Comparison:
    from ecgjepa_core.evaluation.metrics import BootstrapCI

    row = pd.Series(dict(method="m", metric="AUC"))
    return claims.Comparison(row, row, BootstrapCI((low + high) / 2, low, high, 0.95, 100, 100), 100)


def test_no_difference_needs_the_equivalence_margin():
    twelve = next(c for c in claims.CLAIMS if not c.a_should_win)
    m = claims.EQUIVALENCE_MARGIN
    assert claims.verdict(twelve, _comparison(-m / 2, m / 2)).startswith("holds (equivalent within")
    assert claims.verdict(twelve, _comparison(-3 * m, 3 * m)) == "inconclusive"  # absence of evidence
    assert claims.verdict(twelve, _comparison(m / 4, 2 * m)) == "contradicted"
    assert claims.verdict(twelve, _comparison(-2 * m, -m / 4)) == "holds (b better)"


def test_identical_models_are_inconclusive():
    y, a, _ = _scores(n=100)
    row = pd.Series(dict(method="m", metric="AUC", **WHERE))
    kept = {row_key(row): TestScores(y, a, np.arange(100))}
    c = claims.paired_difference(kept, row, row, n_boot=200, seed=0)
    assert c.difference.point == c.difference.low == c.difference.high == 0.0
    assert claims.verdict(claims.CLAIMS[0], c) == "inconclusive"


def test_rows_scored_on_different_records_are_refused():
    y, a, b = _scores(n=50)
    rows = [pd.Series(dict(method=m, metric="AUC", **WHERE)) for m in "ab"]
    kept = {row_key(rows[0]): TestScores(y, a, np.arange(50)), row_key(rows[1]): TestScores(y, b, np.arange(50) + 1)}
    with pytest.raises(ValueError, match="not scored on the same test records"):
        claims.paired_difference(kept, *rows, n_boot=10, seed=0)
    with pytest.raises(ValueError, match="no kept test scores"):
        claims.paired_difference({}, *rows, n_boot=10, seed=0)


def test_flagged_rows_are_judged_against_each_other_not_the_paper(tmp_path):
    y, a, b = _scores(n=60)
    _write_run(tmp_path, y, a, b, flags_b="2 of 3 classes scorable in the test set")
    line = next(x for x in claims.claims_section(tmp_path, n_boot=50).splitlines() if MB_VS_RB in x)
    assert ": contradicted." in line and "but 2 of 3 classes scorable in the test set: no comparison with the paper" in line


def test_claims_say_what_was_not_measured(tmp_path):
    text = claims.claims_section(tmp_path, n_boot=10)
    assert "not measured (table1_linear was not produced in this run)" in text
    y, a, b = _scores(n=50)
    _write_run(tmp_path, y, a, b)
    (tmp_path / "scores" / "table1_linear.npz").unlink()
    assert "not measured (no kept test scores" in claims.claims_section(tmp_path, n_boot=10)


def test_every_claim_names_rows_the_tables_produce():
    from ecgjepa_core.study.registry import TABLE_ORDER

    for claim in claims.CLAIMS:
        assert claim.table in TABLE_ORDER, claim.text
        metrics = {"AUC", "AUC (one-vs-rest)", "AUC (one-vs-one)"} | set(claims.RECORD_METRICS)
        assert {**claim.where, **claim.a}.get("metric") in metrics, claim.text
        assert set({**claim.where, **claim.a, **claim.b}) <= {"method", "encoder", "dataset", "task", "metric",
                                                             "split", "protocol", "ablation"}


def test_too_few_test_records_give_no_verdict():
    from ecgjepa_core.evaluation.metrics import BootstrapCI

    row = pd.Series(dict(method="m", metric="AUC"))
    few = claims.Comparison(row, row, BootstrapCI(0.2, 0.1, 0.3, 0.95, 100, 100), claims.MIN_RECORDS - 1)
    assert claims.verdict(claims.CLAIMS[0], few).startswith("no verdict (9 < 10 test records)")


def test_bootstrap_p_value_is_two_sided_and_floored():
    assert claims.bootstrap_p_value(0.5, 1000) == 1.0
    assert claims.bootstrap_p_value(0.99, 1000) == pytest.approx(0.02)
    assert claims.bootstrap_p_value(1.0, 999) == pytest.approx(1 / 1000)


def _judged(p: float, verdict: str = "holds") -> claims.Judgement:
    c = claims.Comparison(pd.Series(dict(method="m")), pd.Series(dict(method="m")), None, 100, p_value=p)
    return claims.Judgement(claims.CLAIMS[0], c, verdict)


def test_holm_adjusts_step_down_and_keeps_order():
    ps = [0.01, 0.04, 0.03, 0.005]
    out = claims.holm([_judged(p) for p in ps] + [claims.Judgement(claims.CLAIMS[0], None, "not measured")])
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> monotone 0.06
    assert [j.holm_p for j in out[:4]] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(out[4].holm_p)
    assert out[0].corrected.startswith("survives") and out[1].corrected.startswith("does not survive")
    assert claims.holm([_judged(0.2, "inconclusive")])[0].corrected == "p = 0.2"


def test_paired_difference_gives_a_p_value_that_follows_the_interval():
    y, a, b = _scores(noise=(0.5, 2.0))
    row_a, row_b = (pd.Series(dict(method=m, metric="AUC", **WHERE)) for m in "ab")
    kept = {row_key(row_a): TestScores(y, a, np.arange(len(y))), row_key(row_b): TestScores(y, b, np.arange(len(y)))}
    clear = claims.paired_difference(kept, row_a, row_b, n_boot=400, seed=0)
    assert clear.difference.low > 0 and clear.p_value < 0.05
    same = claims.paired_difference(kept, row_a, row_a, n_boot=400, seed=0)
    assert same.p_value == 1.0 and same.p_equivalence == pytest.approx(1 / 401)


def test_an_ablation_whose_settings_score_alike_is_withdrawn_from_the_family(tmp_path):
    y, a, _ = _scores(n=200)
    result = TableResult("table8_leads")
    rows = []
    for setting, s in (("12 leads", a + 1e-4), ("8 leads", a)):
        key = {"method": "ECG-JEPA_rb", **WHERE, "ablation": setting}
        result.scores[row_key(key)] = TestScores(y, s, np.arange(len(y)))
        for cell in classification_cells("multi-label", y, s, 3, 100, 0, "probe seeds"):
            rows.append({**key, **cell, "paper_key": None})
    result.rows = to_frame("leads_8_vs_12", rows)
    result.rows.to_csv(tmp_path / "table8_leads.csv", index=False)
    claims.save_test_scores(tmp_path, result)
    (j,) = claims.judge_all(tmp_path, n_boot=100, tables=("table8_leads",))
    assert j.verdict == "withdrawn" and "r = 1.0000" in j.reason and np.isnan(j.p_value)
    assert "withdrawn." in claims.describe(j)


def test_score_correlation_pairs_runs():
    y, a, b = _scores(n=50, seeds=4)
    groups = np.array([0, 0, 1, 1])
    r = claims.score_correlation(TestScores(y, a, np.arange(50), groups), TestScores(y, a, np.arange(50), groups))
    assert r == pytest.approx(1.0)
    assert claims.score_correlation(TestScores(y, a, np.arange(50)), TestScores(y, b, np.arange(50))) < 1.0
