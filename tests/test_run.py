"""run_all.sh's runner: parameters, selection, the GPU guard, failures named with their cell."""

from __future__ import annotations

import json

import nbformat
import pytest

from ecgjepa_core import run


def test_parameters_are_parsed_as_yaml():
    assert run.parse_pairs([["seed", "1"], ["lr", "1e-3"], ["profile", "smoke"], ["flag", "true"]]) == \
        {"seed": 1, "lr": 0.001, "profile": "smoke", "flag": True}


def test_select_notebooks(tmp_path):
    for name in ("00_data.ipynb", "01_pretrain.ipynb", "02_table1.ipynb", "notes.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in run.select_notebooks(None, tmp_path)] == ["00_data.ipynb", "01_pretrain.ipynb",
                                                                        "02_table1.ipynb"]
    assert [p.name for p in run.select_notebooks("2,00", tmp_path)] == ["00_data.ipynb", "02_table1.ipynb"]
    with pytest.raises(SystemExit, match="no notebook numbered"):
        run.select_notebooks("07", tmp_path)


def test_paper_profile_refuses_without_gpu(monkeypatch):
    import torch

    from ecgjepa_core.study.profiles import ALLOW_CPU_ENV, get_profile, require_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv(ALLOW_CPU_ENV, raising=False)
    with pytest.raises(SystemExit, match="needs one CUDA GPU"):
        require_device(get_profile("paper"))
    require_device(get_profile("smoke"))
    monkeypatch.setenv(ALLOW_CPU_ENV, "1")  # the explicit bypass of the paper-size structural test
    require_device(get_profile("paper"))


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x: int = 0", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_failure_names_notebook_and_cell(tmp_path):
    _notebook(tmp_path / "05_bad.ipynb", "y = 1", "raise ValueError('broken input')")
    with pytest.raises(run.NotebookFailed, match=r"05_bad\.ipynb failed in code cell 4 of the executed copy \(`raise ValueError.*ValueError: broken input"):
        run.execute(tmp_path / "05_bad.ipynb", tmp_path / "out", {"x": 1})
    assert (tmp_path / "out" / "05_bad.ipynb").exists()


def test_parameters_reach_the_notebook(tmp_path):
    _notebook(tmp_path / "00_ok.ipynb", "open('x.txt', 'w').write(str(x))")
    run.execute(tmp_path / "00_ok.ipynb", tmp_path / "out", {"x": 41})
    assert (tmp_path / "x.txt").read_text() == "41"


def test_manifest(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ptbxl.json").write_text(json.dumps({"source_fingerprint": "abc"}))
    path = run.write_manifest(tmp_path, "smoke", {"seed": 1}, [{"notebook": "00_x.ipynb", "status": "ok", "seconds": 2.0}])
    m = json.loads(path.read_text())
    assert m["parameters"] == {"seed": 1} and m["data"]["ptbxl"]["source_fingerprint"] == "abc"
    assert m["packages"]["torch"] and m["hardware"]["cores"] >= 1 and m["wall_seconds"] == 2.0 and m["complete"]


def test_only_keeps_the_record_of_the_notebooks_it_does_not_run(tmp_path):
    entries = [{"notebook": n, "status": "ok", "seconds": 1.0} for n in ("00_a.ipynb", "01_b.ipynb")]
    run.write_manifest(tmp_path, "smoke", {"seed": 1}, entries)
    kept = run.kept_runs(tmp_path, {"01_b.ipynb"})
    assert [r["notebook"] for r in kept] == ["00_a.ipynb"] and kept[0]["commit"] is not None
    assert kept[0]["parameters"] == {"seed": 1}  # each entry keeps what it ran with, whatever runs next


DECLARED = {"02_t.ipynb": {"profile": "str", "output_dir": "str", "seed": "int", "encoders": "str",
                           "overrides": "str"},
            "10_r.ipynb": {"profile": "str", "seed": "int", "allow_mixed": "bool"}}


@pytest.mark.parametrize("given,message", [
    ({"epoch": 1}, r"-p epoch: no notebook declares this parameter; parameters: allow_mixed, encoders, overrides, seed"),
    ({"profile": "foo"}, r"-p profile: set it with --profile"),
    ({"seed": "one"}, r"-p seed 'one': expected int, got str"),
    ({"seed": True}, r"-p seed True: expected int, got bool"),
    ({"allow_mixed": 1}, r"-p allow_mixed 1: expected bool"),
    ({"overrides": {"model.embed_dims": 8}}, r"unknown override key\(s\) \['model.embed_dims'\] \(model.embed_dims: did you mean model.embed_dim"),
    ({"overrides": {"pretrain.epochs": "ten"}}, r"override pretrain.epochs='ten': expected int"),
    ({"overrides": {"model.num_heads": 5}}, r"model.num_heads=5: encoder width 32 is not divisible by its 5 heads"),
    ({"encoders": "mb=/no/such/file.pth"}, r"-p encoders: encoders: 'mb' file not found: /no/such/file.pth"),
    ({"encoders": "xb=/tmp"}, r"unknown row 'xb'"),
])
def test_bad_parameters_fail_before_any_notebook(given, message):
    with pytest.raises(SystemExit, match=message):
        run.check_parameters("smoke", given, DECLARED)


def test_good_parameters_are_normalised():
    out = run.check_parameters("smoke", {"seed": 2, "overrides": {"pretrain.epochs": 3}}, DECLARED)
    assert out == {"seed": 2, "overrides": '{"pretrain.epochs": 3}'}


def test_relative_encoder_paths_reach_the_notebooks_absolute(tmp_path, monkeypatch):
    from ecgjepa_core.checkpoint import save_checkpoint
    from ecgjepa_core.models.config import ModelConfig
    from ecgjepa_core.models.ecgjepa import Encoder

    save_checkpoint(tmp_path / "w" / "rb.pt", Encoder(ModelConfig(embed_dim=32, depth=1, num_heads=4)))
    monkeypatch.chdir(tmp_path)
    out = run.check_parameters("smoke", {"encoders": "rb=w/rb.pt"}, DECLARED)
    assert json.loads(out["encoders"]) == {"rb": {"path": str(tmp_path / "w" / "rb.pt"), "num_heads": 4}}


def test_unknown_parameter_stops_the_runner_before_the_first_notebook(tmp_path, capsys):
    with pytest.raises(SystemExit, match="-p epoch: no notebook declares"):
        run.main(["--only", "00", "-p", "epoch", "1", "--results", str(tmp_path)])
    assert not any(tmp_path.iterdir())  # nothing ran, nothing was written


def test_a_run_failing_before_its_first_table_leaves_committed_results_alone(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    (results / "notebooks").mkdir(parents=True)
    (results / "manifest.json").write_text('{"committed": true, "notebooks": []}')
    (results / "notebooks" / "00_data.ipynb").write_text("committed copy")
    monkeypatch.setenv("ECGJEPA_SHARED", str(tmp_path / "no-shared-data"))  # cpu-study's data is missing
    monkeypatch.setenv("ECGJEPA_CACHE", str(tmp_path / "cache"))
    assert run.main(["--profile", "cpu-study", "--only", "00", "--results", str(results)]) == 1
    assert "00_data.ipynb failed in code cell" in capsys.readouterr().err
    assert (results / "manifest.json").read_text() == '{"committed": true, "notebooks": []}'
    assert (results / "notebooks" / "00_data.ipynb").read_text() == "committed copy"
    assert sorted(p.name for p in results.rglob("*")) == ["00_data.ipynb", "manifest.json", "notebooks"]
