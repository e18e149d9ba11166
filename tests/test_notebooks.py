"""The notebook series: paired, parameterised, clean, thin."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import pytest

from ecgjepa_core.run import NOTEBOOK_DIR

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
PARAMETERS = {"profile", "output_dir", "seed", "encoders", "overrides"}


def test_series_is_complete():
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert numbers == [f"{i:02d}" for i in range(14)]
    assert NOTEBOOKS[-1].name == "13_report.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_paired_with_its_py_and_clean(path: Path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["jupytext"]["formats"] == "ipynb,py:percent"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(c.get("outputs") for c in code), "outputs committed"
    paired = jupytext.read(path.with_suffix(".py"))
    assert [(c["cell_type"], ("".join(c["source"]) if isinstance(c["source"], list) else c["source"]).strip())
            for c in nb["cells"]] == [(c.cell_type, c.source.strip()) for c in paired.cells], \
        "the .ipynb and its .py differ: run jupytext --sync"


def test_every_py_script_has_its_notebook():
    scripts = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
    assert [p.with_suffix(".ipynb") for p in scripts] == NOTEBOOKS, "a notebook or its .py pair is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_is_typed(path: Path):
    import papermill as pm

    params = pm.inspect_notebook(str(path))
    assert set(params) == PARAMETERS | ({"allow_mixed"} if path.name.startswith("13_") else set())
    assert params["profile"]["inferred_type_name"] == "str" and params["seed"]["inferred_type_name"] == "int"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_stay_thin(path: Path):
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    lines = sum(len("".join(c["source"]).splitlines()) for c in code)
    assert lines <= 45, f"{path.name}: {lines} lines of code; move logic into ecgjepa_core"
    assert not any("def " in "".join(c["source"]) for c in code), "functions belong in ecgjepa_core"


@pytest.mark.parametrize("newer", ["ipynb", "py"])
def test_jupytext_sync_of_an_unchanged_pair_changes_nothing(tmp_path, newer):
    """`jupytext --sync` (README) on a notebook nobody edited leaves both files byte-identical, whichever of the
    two is newer and wherever it runs: no version stamp in the .py header (pyproject.toml [tool.jupytext])."""
    import os
    import shutil
    import subprocess
    import sys

    for path in NOTEBOOKS:
        for suffix in (".ipynb", ".py"):
            shutil.copy(path.with_suffix(suffix), tmp_path / path.with_suffix(suffix).name)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for path in sorted(tmp_path.glob(f"*.{newer}")):
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    done = subprocess.run([sys.executable, "-m", "jupytext", "--sync", *sorted(str(p) for p in tmp_path.glob("*.ipynb"))],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    changed = [name for name, data in before.items() if (tmp_path / name).read_bytes() != data]
    assert changed == []
