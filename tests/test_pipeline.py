"""End to end: ./run_all.sh's smoke profile writes every table, figure, the report and the manifest; with
``-p encoders`` an authors'-format file stands in for mb in every table that reads it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from ecgjepa_core.paths import REPO_ROOT, golden_dir
from ecgjepa_core.report import claims, provenance
from ecgjepa_core.study.encoders import parse_encoders
from ecgjepa_core.report.claims import CLAIMS
from ecgjepa_core.run import select_notebooks
from ecgjepa_core.study.registry import TABLE_ORDER, pretrained_variants
from ecgjepa_core.study.study import Study

from .report_checks import contradictions

TINY = golden_dir() / "official_mb_tiny_encoder.pth"


def _run_series(tmp_path, *extra: str):
    env = {**os.environ, "ECGJEPA_CACHE": str(tmp_path / "cache"), "ECGJEPA_RUNS": str(tmp_path / "runs")}
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "ecgjepa_core.run", "--profile", "smoke", "--results", str(results),
                           *extra], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return results, done


def _notebook_text(path) -> str:
    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") or o.get("data", {}).get("text/markdown", ""))
    return "\n".join(out)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    return _run_series(tmp_path_factory.mktemp("smoke"))


@pytest.mark.slow
def test_smoke_profile_end_to_end(smoke_run):
    results, done = smoke_run
    for name in TABLE_ORDER:
        assert (results / f"{name}.csv").exists() and (results / f"{name}.md").exists(), name
    linear = pd.read_csv(results / "table1_linear.csv")
    mb = linear[(linear.method == "ECG-JEPA_mb") & (linear.dataset == "PTB-XL") & (linear.task == "multi-label")
                & (linear.metric == "AUC")]
    assert {"linear", "linear, pooled statistics"} <= set(mb.protocol)  # the paper reports mean-pooling only
    assert mb[mb.protocol != "linear"].paper.isna().all()
    mb = mb[mb.protocol == "linear"]
    assert (mb.paper == 0.912).all() and mb.ours.between(0, 1).all() and mb.details.str.contains("seeds").all()
    assert mb.encoder.str.startswith("pretrained here: mb").all()
    assert {"Random init", "ECG-JEPA_rb", "ECG-JEPA_mb"} <= set(linear.method)
    finetuned = pd.read_csv(results / "table2_finetune.csv")
    searched = finetuned[finetuned.protocol == "fine-tuned, lr searched on validation"]
    assert {"Supervised", "ECG-JEPA_rb", "ECG-JEPA_mb"} == set(searched.method)
    assert set(searched.split) == {"standard split"} and "fine-tuned, authors' lr" in set(finetuned.protocol)
    # smoke pretrains 2 seeds of each main run: Table 1's rows pool them, sd over runs, the CI nested
    rb = linear[(linear.method == "ECG-JEPA_rb") & (linear.ablation.isna()) & (linear.metric == "AUC")]
    assert (rb.n_runs == 2).all() and (rb.sd_over == "pretraining seeds").all()
    assert rb.encoder.str.contains("2 epochs, seeds 0/1, lr ", regex=False).all()  # and the recipe it used
    kept = claims.load_test_scores(results, "table1_linear")
    assert any(s.groups is not None and s.n_runs == 2 for s in kept.values())
    references = pd.read_csv(results / "references.csv")
    assert {"1-D ResNet (from scratch)", "Logistic regression (ECG features)", "ECG-JEPA_mb"} <= set(references.method)
    low_shot = pd.read_csv(results / "table3_low_shot.csv")
    assert "1-D ResNet (from scratch)" in set(low_shot.method)
    curves = pd.read_csv(results / "learning_curves.csv")
    assert set(curves.run) == {"rb", "mb", "weimann"} and set(curves.epoch) == {1, 2}
    figures = {p.name for p in (results / "figures").glob("*.png")}
    assert {"masking_strategies.png", "cropa_mask.png", "pretraining_curves.png", "roc_table1_linear_mb_ptbxl.png",
            "embedding_mb_ptbxl.png", "table1_linear_ours_vs_paper.png"} <= figures
    report = (results / "REPORT.md").read_text()
    assert report.index("## Headline") < report.index("## Table 1") < report.index("## Deviations from the paper")
    assert len(_headline(report)) == len(CLAIMS) and "Notebooks 00–" in report
    assert "## Learning curves and collapse" in report
    assert "- `rb`: " in report and "Beyond this scale" in report  # the verdicts reach the report
    # Each table says which splits it shows and what its numbers are (two lines); Table 1 shows its raw-feature rows.
    # v3 adds readouts, recipes and diagnostics: the bound keeps it from growing further unnoticed
    assert len(report.encode()) < 48_000, f"REPORT.md is {len(report.encode())} bytes"
    assert contradictions(results) == []
    assert report.index(Study("smoke", progress=False).profile.notice) < report.index("## Headline")
    runs = pd.read_csv(results / "pretraining_runs.csv")
    searched = pd.read_csv(results / "pretraining_recipes.csv")  # every candidate of the recipe searches
    assert set(searched.run) <= set(runs.run) and runs.run.is_unique
    assert set(runs.variant) == ({v.key for v in pretrained_variants(Study("smoke", progress=False))}
                                 | set(runs[runs.run.isin(searched.run)].variant))
    identities = provenance.read_identities(results, list(TABLE_ORDER))
    assert len(identities) == len(TABLE_ORDER) and provenance.differences(identities) == []
    manifest = json.loads((results / "manifest.json").read_text())
    series = select_notebooks(None)
    assert [n["status"] for n in manifest["notebooks"]] == ["ok"] * len(series) and manifest["complete"]
    assert manifest["data"]["ptbxl_subset"]["source_fingerprint"] and manifest["lock"]["sha256"]
    assert len(list((results / "notebooks").glob("*.ipynb"))) == len(series)
    assert "IPKernelApp" not in done.stdout + done.stderr
    # the end of the run says where the report is and what smoke numbers are
    assert "[run_all] [1/14] 00_data" in done.stdout and "[run_all] [14/14] 13_report done in" in done.stdout
    closing = done.stdout.rsplit("13_report done in", 1)[1]
    assert f"Report: {results / 'REPORT.md'}" in closing and "results/cpu-study/REPORT.md" in closing
    assert "pipeline check" in closing


@pytest.mark.slow
def test_table_notebooks_show_their_protocol_and_figures(smoke_run):
    results, _ = smoke_run
    for name in ("02_table1_linear", "11_segmentation"):
        nb = nbformat.read(results / "notebooks" / f"{name}.ipynb", as_version=4)
        outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
        text = _notebook_text(results / "notebooks" / f"{name}.ipynb")
        assert "Shown:" in text and "Numbers:" in text and "Protocol keys" in text, name
        assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2, name  # ours vs paper, ROC / overlay
        assert "<Figure size" not in text, name
    explored = _notebook_text(results / "notebooks" / "09_table8_leads.ipynb")
    assert "paper: AdamW lr 0.0005" in explored  # the exploring cell's caption: the paper's probe recipe


@pytest.mark.slow
def test_main_encoders_ship_with_the_results_and_load_as_given_files(smoke_run):
    import hashlib

    import torch

    from ecgjepa_core.study.encoders import load_encoder

    results, _ = smoke_run
    folder = results / "encoders"
    readme = (folder / "README.md").read_text()
    runs = results.parent / "runs" / "smoke"
    for key in ("rb", "mb", "weimann"):
        path = folder / f"{key}.pt"
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert sha in readme and f"results/smoke/encoders/{key}.pt" in readme
        # byte-identical to the final encoder of the row's seed-0 run
        sources = [p for p in runs.glob(f"{key}-*/encoder_epoch002.pt")
                   if re.fullmatch(f"{key}-[0-9a-f]{{10}}", p.parent.name)]
        assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in sources] == [sha], key
        encoder = load_encoder(parse_encoders(json.dumps({key: str(path)}))[key])
        assert not encoder.training and all(torch.isfinite(p).all() for p in encoder.parameters())


def _headline(report: str) -> dict[str, dict[str, str]]:
    """The headline table of REPORT.md: claim -> its cells."""
    section = report.split("## Headline", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    header, body = [c.strip() for c in rows[0]], rows[1:]
    return {cells[0].strip(): dict(zip(header, (c.strip() for c in cells))) for cells in body}


BULLET = re.compile(r"^- \*\*(?P<claim>.+?)\*\*: (?P<verdict>.+?)\. .*Paired difference on \d+ test records: "
                    r"(?P<point>[+-]\d\.\d{3}) \[95 % CI (?P<low>[+-]\d\.\d{3}), (?P<high>[+-]\d\.\d{3})\]")


@pytest.mark.slow
def test_no_notebook_statement_contradicts_the_report(smoke_run):
    results, _ = smoke_run
    headline = _headline((results / "REPORT.md").read_text())
    said = [m for nb in sorted((results / "notebooks").glob("*.ipynb"))
            for m in map(BULLET.match, _notebook_text(nb).splitlines()) if m]
    assert {m["claim"] for m in said} == set(headline)  # every claim is stated in a notebook
    for m in said:
        row = headline[m["claim"]]
        assert row["verdict"] == m["verdict"], m["claim"]
        assert row["difference [95 % CI]"] == f"{m['point']} [{m['low']}, {m['high']}]", m["claim"]


@pytest.mark.slow
def test_mixed_runs_are_refused_by_the_report(smoke_run, tmp_path):
    import shutil

    results, _ = smoke_run
    mixed = tmp_path / "mixed"
    shutil.copytree(results, mixed)
    ident = json.loads((mixed / "table3_low_shot.provenance.json").read_text())
    (mixed / "table3_low_shot.provenance.json").write_text(json.dumps({**ident, "seed": 1}))
    env = {**os.environ, "ECGJEPA_CACHE": str(results.parent / "cache"), "ECGJEPA_RUNS": str(results.parent / "runs")}
    run = [sys.executable, "-m", "ecgjepa_core.run", "--profile", "smoke", "--results", str(mixed), "--only", "13"]
    refused = subprocess.run(run, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 1 and "seed differs: 0 in" in refused.stderr and "1 in table3_low_shot" in refused.stderr
    allowed = subprocess.run(run + ["-p", "allow_mixed", "true"], cwd=REPO_ROOT, env=env, capture_output=True,
                             text=True, timeout=600)
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    report = (mixed / "REPORT.md").read_text()
    assert "Mixed provenance" in report and "1 in table3_low_shot" in report
    assert report.index("Mixed provenance") < report.index("## Headline")  # at its very top


@pytest.mark.slow
def test_the_report_renders_from_the_results_folder_alone_and_refuses_an_edited_table(smoke_run, tmp_path):
    import shutil

    results, _ = smoke_run
    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    # A fresh clone: no runs folder, no caches; rendering must not pretrain (it did, through Study.pretrained).
    env = {**os.environ, "ECGJEPA_CACHE": str(tmp_path / "cache"), "ECGJEPA_RUNS": str(tmp_path / "runs")}
    run = [sys.executable, "-m", "ecgjepa_core.run", "--profile", "smoke", "--results", str(copy), "--only", "13"]
    done = subprocess.run(run, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "cache").exists()
    pd.testing.assert_frame_equal(pd.read_csv(copy / "pretraining_runs.csv"), pd.read_csv(results / "pretraining_runs.csv"))
    edited = next(v for v in ("0.999", "0.998", "0.997", "0.996") if v not in (copy / "REPORT.md").read_text())
    table = pd.read_csv(copy / "table1_linear.csv", dtype=str, keep_default_na=False)
    table.loc[table.index[0], "ours"] = edited
    table.to_csv(copy / "table1_linear.csv", index=False)
    refused = subprocess.run(run, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 1 and "table1_linear.csv was changed after its run wrote it" in refused.stderr
    assert edited not in (copy / "REPORT.md").read_text()


@pytest.mark.slow
def test_series_on_an_authors_checkpoint(tmp_path):
    spec = json.dumps({"mb": {"path": str(TINY), "num_heads": 4}})
    results, _ = _run_series(tmp_path, "-p", "encoders", spec, "-p", "overrides", '{"evaluation.bootstrap": 50}')
    manifest = json.loads((results / "manifest.json").read_text())
    assert json.loads(manifest["parameters"]["overrides"]) == {"evaluation.bootstrap": 50}
    assert json.loads(manifest["parameters"]["encoders"])["mb"]["num_heads"] == 4
    ident = json.loads((results / "table1_linear.provenance.json").read_text())
    assert ident["overrides"] == {"evaluation.bootstrap": 50} and ident["encoders"]["mb"]["num_heads"] == 4
    sha = parse_encoders(spec)["mb"].sha256[:12]
    for name in ("table1_linear", "table2_finetune", "table3_low_shot", "table4_reduced_leads",
                 "table5_ecg_features"):
        rows = pd.read_csv(results / f"{name}.csv")
        mb = rows[rows.method == "ECG-JEPA_mb"]
        assert len(mb) and mb.encoder.str.contains(f"official_mb_tiny_encoder.pth \\(sha256 {sha}\\)").all(), name
        assert sha in (results / f"{name}.md").read_text(), name
    cropa = pd.read_csv(results / "table6_cropa.csv")  # an ablation of our own pretraining: the file stays out
    assert cropa.encoder.str.startswith("pretrained here").all()
    report = (results / "REPORT.md").read_text()
    assert re.search(f"official_mb_tiny_encoder.pth sha256 {sha}", report)
    pretrained = pd.read_csv(results / "pretraining.csv")
    assert list(pretrained.variant) == ["rb", "rb-s1", "weimann", "weimann-s1"]  # the file stands in for mb
