"""The third bad-input catalogue, results: a table whose bytes are not those its run wrote is refused by the
report (or marked at its top with ``allow_mixed``); results files, the manifest and the provenance records
fail in one line naming the file; a full disk leaves no partial file and names the path.

| case | behaviour |
| --- | --- |
| one ``ours`` cell of the CSV edited; the Markdown edited | report refused naming the file and the line (issue) |
| the same with ``allow_mixed`` | written, the change named at its top |
| CSV truncated mid-line / at a line end | "is truncated: N of its M lines remain", never "rows missing" |
| a row appended to the CSV | "2 lines differ" |
| ``scores/<table>.npz`` deleted / one byte changed | "is missing" / "changed since its run wrote it" |
| ``<table>.provenance.json`` deleted / truncated / a JSON list | "no record of the content" / "not valid JSON" / "not a provenance record" |
| a provenance record without its pretraining runs | ``write_pretraining_runs`` names it and the notebook to rerun |
| the pretraining runs table, runs folder empty | read from the records, nothing pretrained |
| ``n/a`` in a number cell; a column missing; a last line without line end; a folder named like the table | UserFileError naming file (and line, column) |
| manifest: empty, truncated, a JSON list, entries without ``notebook``, a folder | UserFileError / SystemExit before any notebook |
| a data fingerprint file that is not JSON | the manifest write names it |
| two processes recording notebooks at once | every entry kept |
| a run leaves no empty staging folder in the temporary directory | |
| ``--results`` naming a file | refused, the file untouched |
| full disk (ENOSPC) writing a table, the scores, a checkpoint, the manifest | OSError naming the path; no partial or 0-byte file; the earlier file intact |
| the target folder is a file | OSError naming the path |
"""

from __future__ import annotations

import errno
import io
import json
import multiprocessing
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ecgjepa_core import files, run
from ecgjepa_core.errors import UserFileError
from ecgjepa_core.report import claims, markdown, provenance
from ecgjepa_core.study import registry
from ecgjepa_core.report.results import TableResult, TestScores, read_rows, row_key, to_frame
from ecgjepa_core.study.study import Study

TABLE = "table1_linear"


def _result() -> TableResult:
    rng = np.random.default_rng(0)
    base = {"encoder": "x", "dataset": "PTB-XL", "task": "multi-label", "split": "paper split", "protocol": "linear",
            "ablation": "", "metric": "AUC", "sd": 0.01, "n_runs": 3, "ci_low": 0.5, "ci_high": 0.7, "n_test": 30}
    rows = to_frame(None, [{**base, "method": m, "ours": v} for m, v in (("ECG-JEPA_mb", 0.61), ("ECG-JEPA_rb", 0.58))])
    y = rng.integers(0, 2, (30, 5))
    scores = {row_key(r): TestScores(y, rng.normal(size=(3, 30, 5)), np.arange(30)) for _, r in rows.iterrows()}
    return TableResult(TABLE, rows, scores)


@pytest.fixture
def study(tmp_path, monkeypatch) -> Study:
    """A results folder holding Table 1 as ``publish`` writes it (a stand-in build: no data, no pretraining)."""
    monkeypatch.setenv("ECGJEPA_RUNS", str(tmp_path / "runs"))
    spec = replace(registry.REGISTRY[TABLE], build=lambda s: _result(), variants=lambda s: [])
    monkeypatch.setitem(registry.REGISTRY, TABLE, spec)
    monkeypatch.setattr(Study, "pretrained", lambda self, v: pytest.fail(f"pretrained {v.key}"))
    study = Study("smoke", tmp_path / "results", progress=False)
    registry.publish(study, TABLE)
    return study


def _refused(study: Study, *expected: str) -> str:
    with pytest.raises(SystemExit) as info:
        registry.write_report(study)
    message = str(info.value.code)
    assert "\n" not in message and all(e in message for e in expected), message
    assert not (study.output_dir / "REPORT.md").exists()
    return message


def _set_cell(path: Path, column: str, value: str) -> None:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[0, column] = value
    table.to_csv(path, index=False)


def test_an_untouched_folder_renders_without_pretraining(study):
    runs = registry.write_pretraining_runs(study)
    assert len(runs) == 0 and (study.output_dir / "pretraining_runs.provenance.json").exists()
    assert "## Table 1" in registry.write_report(study).read_text()


def test_an_edited_cell_is_refused_naming_file_and_line(study):
    _set_cell(study.output_dir / f"{TABLE}.csv", "ours", "0.999")
    _refused(study, f"{TABLE}.csv was changed after its run wrote it (1 lines differ; now line 2: ", "0.999",
             "REPORT.md not written")


def test_an_edited_markdown_is_refused(study):
    md = study.output_dir / f"{TABLE}.md"
    md.write_text(md.read_text().replace("0.610", "0.999"))
    _refused(study, f"{TABLE}.md was changed after its run wrote it", "0.999")


def test_allow_mixed_names_the_change_at_the_top(study):
    _set_cell(study.output_dir / f"{TABLE}.csv", "ours", "0.999")
    report = registry.write_report(study, allow_mixed=True).read_text()
    notice = report.index(f"not as its run wrote it: {TABLE}.csv was changed")
    assert notice < report.index("## Table 1") and "Every table below" not in report


@pytest.mark.parametrize("cut, expected", [(-7, "2 of its 3 lines remain, and part of the next"),
                                                (None, "2 of its 3 lines remain")])
def test_a_truncated_csv_is_said_truncated_not_missing_rows(study, cut, expected):
    path = study.output_dir / f"{TABLE}.csv"
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut else data[:data.rindex(b"\n", 0, len(data) - 1) + 1])
    message = _refused(study, f"{TABLE}.csv is truncated", expected)
    assert "missing" not in message and "not both" not in message


def test_an_appended_row_is_refused(study):
    path = study.output_dir / f"{TABLE}.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1], lines[2]]) + "\n")
    _refused(study, f"{TABLE}.csv was changed after its run wrote it (2 lines differ")


def test_deleted_scores_are_named(study):
    (study.output_dir / "scores" / f"{TABLE}.npz").unlink()
    _refused(study, f"scores/{TABLE}.npz is missing (its run wrote it)")


def test_changed_scores_are_named(study):
    path = study.output_dir / "scores" / f"{TABLE}.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    _refused(study, f"scores/{TABLE}.npz changed since its run wrote it")


def test_a_table_without_its_record_is_refused(study):
    (study.output_dir / f"{TABLE}{provenance.SUFFIX}").unlink()
    _refused(study, f"{TABLE}.csv, {TABLE}.md: no record of the content its run wrote", "is missing); rerun")


@pytest.mark.parametrize("text, problem", [('{"commit": "ab', "provenance record is not valid JSON (line 1"),
                                           ("[1, 2]", "not a provenance record")])
def test_an_unreadable_record_is_named(study, text, problem):
    path = study.output_dir / f"{TABLE}{provenance.SUFFIX}"
    path.write_text(text)
    with pytest.raises(UserFileError, match=re.escape(problem)) as info:
        registry.write_report(study)
    assert str(info.value).startswith(str(path))


def test_a_record_without_its_runs_names_the_notebook_to_rerun(study):
    path = study.output_dir / f"{TABLE}{provenance.SUFFIX}"
    record = json.loads(path.read_text())
    del record["runs"]
    path.write_text(json.dumps(record))
    with pytest.raises(UserFileError, match=r"records of table1_linear list no pretraining runs .*run_all.sh --only 02\)"):
        registry.write_pretraining_runs(study)


def test_the_runs_table_comes_from_the_records(study):
    path = study.output_dir / f"{TABLE}{provenance.SUFFIX}"
    record = json.loads(path.read_text())
    run_rows = [{"variant": "rb", "run": "rb-0123456789", "epochs": 2}, {"variant": "mb", "run": "mb-9876543210",
                                                                          "epochs": 2}]
    path.write_text(json.dumps({**record, "runs": run_rows + run_rows[:1]}))
    table = registry.write_pretraining_runs(study)  # Study.pretrained fails this test if called
    assert list(table["run"]) == ["rb-0123456789", "mb-9876543210"]
    assert not (study.output_dir.parent / "runs").exists()


@pytest.mark.parametrize("edit, problem", [
    (("ours", "n/a"), "line 2, column ours: 'n/a' is not a number"),
    (("sd", "about 0.01"), "line 2, column sd: 'about 0.01' is not a number"),
])
def test_a_number_cell_without_a_number(tmp_path, edit, problem):
    path = tmp_path / "t.csv"
    _result().rows.to_csv(path, index=False)
    _set_cell(path, *edit)
    with pytest.raises(UserFileError, match=problem):
        read_rows(path)


def test_a_table_without_a_column(tmp_path):
    path = tmp_path / "t.csv"
    _result().rows.drop(columns=["ci_low"]).to_csv(path, index=False)
    with pytest.raises(UserFileError, match=r"t.csv: missing columns \['ci_low'\]"):
        read_rows(path)


def test_a_table_cut_mid_line(tmp_path):
    path = tmp_path / "t.csv"
    _result().rows.to_csv(path, index=False)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(UserFileError, match="t.csv: truncated: its last line has no line end"):
        read_rows(path)


def test_a_folder_where_the_table_is_due(tmp_path):
    (tmp_path / f"{TABLE}.csv").mkdir()
    with pytest.raises(UserFileError, match=f"{TABLE}.csv: is a folder, expected a results table"):
        claims.read_table(tmp_path, TABLE)


# --- the manifest ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, problem", [
    ("", "manifest is empty"),
    ('{"profile": "smoke", "notebooks": [{"notebook": "00', "manifest is not valid JSON (line 1, column "),
    ("[]", "not a manifest of this runner"),
    ('{"notebooks": [{"status": "ok"}]}', "not a manifest of this runner"),
])
def test_an_unreadable_manifest_stops_the_run_before_any_notebook(tmp_path, text, problem, monkeypatch):
    (tmp_path / "manifest.json").write_text(text)
    monkeypatch.setattr(run, "execute", lambda *a, **k: pytest.fail("a notebook ran"))
    with pytest.raises(SystemExit) as info:
        run.main(["--only", "13", "--results", str(tmp_path)])
    message = str(info.value.code)
    assert message.startswith(f"run_all: {tmp_path / 'manifest.json'}: ") and problem in message, message
    assert (tmp_path / "manifest.json").read_text() == text  # never overwritten


def test_a_manifest_that_is_a_folder(tmp_path):
    (tmp_path / "manifest.json").mkdir()
    with pytest.raises(UserFileError, match="manifest.json: is a folder, expected a manifest"):
        run.kept_runs(tmp_path, set())


def test_a_data_fingerprint_that_is_not_json(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ptbxl.json").write_text("{'not': json}")
    with pytest.raises(UserFileError, match=r"ptbxl.json: data fingerprint is not valid JSON"):
        run.write_manifest(tmp_path, "smoke", {}, [])


def _record_many(results: str, prefix: str) -> None:
    for i in range(12):
        run.record_notebook(Path(results), "smoke", {"seed": 0},
                            {"notebook": f"{prefix}{i:02d}.ipynb", "status": "ok", "seconds": 1.0}, set())


def test_concurrent_runs_keep_every_entry(tmp_path):
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_record_many, args=(str(tmp_path), p)) for p in ("a", "b")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    entries = json.loads((tmp_path / "manifest.json").read_text())["notebooks"]
    assert len(entries) == 24 and not list(tmp_path.glob(".*.tmp"))


def _fake_series(monkeypatch, tmp_path) -> Path:
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(run, "execute", lambda nb, out, params, **k: out.mkdir(parents=True, exist_ok=True) or 0.1)
    return temp


def test_a_run_leaves_no_staging_folder(tmp_path, monkeypatch):
    temp = _fake_series(monkeypatch, tmp_path)
    assert run.main(["--only", "13", "--results", str(tmp_path / "results")]) == 0
    assert list(temp.iterdir()) == []
    assert json.loads((tmp_path / "results" / "manifest.json").read_text())["notebooks"][0]["status"] == "ok"


def test_results_that_name_a_file(tmp_path, monkeypatch):
    _fake_series(monkeypatch, tmp_path)
    taken = tmp_path / "results.txt"
    taken.write_text("mine")
    with pytest.raises(SystemExit, match=f"--results {taken}: is a file, expected a folder"):
        run.main(["--only", "13", "--results", str(taken)])
    assert taken.read_text() == "mine"


# --- a full disk ----------------------------------------------------------------------------------

@pytest.fixture
def fill_disk(monkeypatch):
    """``fill_disk(room)``: from now on the files ``atomic_write`` opens take ``room`` bytes, then fail with ENOSPC."""
    def fill(room: int) -> None:
        class FullDisk(io.FileIO):
            def write(self, data) -> int:
                if self.tell() + len(memoryview(data).cast("B")) > room:
                    raise OSError(errno.ENOSPC, "No space left on device")
                return super().write(data)
        monkeypatch.setattr(files.os, "fdopen", lambda fd, *args, **kwargs: FullDisk(fd, "wb"))
    return fill


def _no_space(call, path: Path) -> None:
    with pytest.raises(OSError) as info:
        call()
    assert info.value.errno == errno.ENOSPC and str(path) in str(info.value), str(info.value)
    assert "unexpected pos" not in str(info.value)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # no partial file left


def test_a_full_disk_writing_a_table_keeps_the_earlier_table(tmp_path, fill_disk):
    rows = _result().rows
    csv, _ = markdown.write_table(rows, tmp_path, TABLE, "T", "caption", {})
    before = csv.read_bytes()
    fill_disk(0)
    _no_space(lambda: markdown.write_table(rows, tmp_path, TABLE, "T", "caption", {}), csv)
    assert csv.read_bytes() == before


def test_a_full_disk_writing_the_scores_leaves_no_empty_npz(tmp_path, fill_disk):
    fill_disk(100)
    path = tmp_path / "scores" / f"{TABLE}.npz"
    _no_space(lambda: claims.save_test_scores(tmp_path, _result()), path)
    assert not path.exists()


def test_a_full_disk_saving_a_checkpoint_names_it(tmp_path, fill_disk):
    from ecgjepa_core.checkpoint import atomic_save

    fill_disk(600)  # torch reports its writer's failure as "unexpected pos …"
    path = tmp_path / "checkpoint.pt"
    _no_space(lambda: atomic_save({"w": torch.zeros(10_000)}, path), path)
    assert not path.exists()


def test_a_full_disk_writing_the_manifest_keeps_the_earlier_one(tmp_path, fill_disk):
    run.write_manifest(tmp_path, "smoke", {}, [{"notebook": "00_data.ipynb", "status": "ok", "seconds": 1.0}])
    before = (tmp_path / "manifest.json").read_text()
    fill_disk(10)
    _no_space(lambda: run.write_manifest(tmp_path, "smoke", {}, []), tmp_path / "manifest.json")
    assert (tmp_path / "manifest.json").read_text() == before


def test_a_target_folder_that_is_a_file(tmp_path):
    (tmp_path / "scores").write_text("a file")
    with pytest.raises(OSError) as info:
        files.atomic_write_text(tmp_path / "scores" / "t.csv", "x")
    assert str(tmp_path / "scores" / "t.csv") in str(info.value) and info.value.errno in (errno.EEXIST,
                                                                                           errno.ENOTDIR)
    assert os.path.isfile(tmp_path / "scores")
