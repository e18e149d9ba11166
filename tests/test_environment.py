"""The lock file, what scripts/setup_env.sh installs with it, and running with an existing interpreter."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ecgjepa_core.environment import (LOCK_PATH, UNLOCKED, canonical_name, lock_identity, lock_mismatches,
                                      read_lock)
from ecgjepa_core.paths import REPO_ROOT

SETUP = REPO_ROOT / "scripts" / "setup_env.sh"


def _setup_env(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    ours = ("ECGJEPA_PYTHON", "ECGJEPA_LOCK", "VENV", "TORCH_SPEC", "TORCH_INDEX_URL")
    base = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(["bash", str(SETUP)], env={**base, **env}, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


def _fake_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv whose python only records its arguments: setup_env.sh's pip calls, without installing."""
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return venv, log


def _built_with_this_lock() -> bool:
    """Whether the running interpreter is a venv that setup_env.sh built with the repository's lock."""
    stamp = Path(sys.prefix) / ".ecgjepa-setup"
    return stamp.is_file() and stamp.read_text().strip().endswith(f"lock={LOCK_PATH}")


def test_lock_pins_every_declared_dependency():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    locked = read_lock()
    declared = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    missing = [r.name for r in declared if canonical_name(r.name) not in locked]
    assert not missing, f"declared in pyproject.toml but not pinned in {LOCK_PATH.name}: {missing}"
    assert not UNLOCKED & set(locked), "the lock pins an installer or this package itself"


def test_lock_identity_names_the_file_and_its_hash():
    identity = lock_identity()
    assert identity == {"path": "requirements/lock-cpu.txt",
                        "sha256": hashlib.sha256(LOCK_PATH.read_bytes()).hexdigest()}


def test_a_malformed_lock_line_is_named(tmp_path):
    bad = tmp_path / "lock.txt"
    bad.write_text("numpy==2.0.0\ntorch>=2.3\n")
    with pytest.raises(ValueError, match=r"lock\.txt, line 2: expected 'name==version'"):
        read_lock(bad)


def test_mismatches_list_missing_and_other_versions(tmp_path):
    lock = tmp_path / "lock.txt"
    numpy = metadata.version("numpy")
    lock.write_text(f"numpy=={numpy}\npytest==0.0.1\nno-such-package==1.0\n")
    assert lock_mismatches(lock) == {"pytest": ("0.0.1", metadata.version("pytest")),
                                     "no-such-package": ("1.0", None)}


@pytest.mark.skipif(not _built_with_this_lock(),
                    reason="this interpreter was not built by scripts/setup_env.sh with requirements/lock-cpu.txt")
def test_fresh_setup_installs_exactly_the_lock():
    """Every locked package at its locked version, and nothing locked that the package does not need."""
    assert lock_mismatches() == {}
    needed, todo = set(), [("ecgjepa-core", ("dev",))]
    while todo:
        name, extras = todo.pop()
        if canonical_name(name) in needed:
            continue
        needed.add(canonical_name(name))
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras or ("",)):
                todo.append((req.name, tuple(req.extras)))
    assert set(read_lock()) == needed - UNLOCKED


def test_setup_installs_with_the_lock_as_constraints(tmp_path):
    venv, log = _fake_venv(tmp_path)
    done = _setup_env(tmp_path, VENV=str(venv))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{venv}/bin/python"
    installs = [line for line in log.read_text().splitlines() if line.startswith("-m pip install")]
    assert len(installs) == 2, installs
    assert all(f"-c {LOCK_PATH}" in line for line in installs), installs
    assert re.search(r"torch==\S+$", installs[0]).group(0) == f"torch=={read_lock()['torch']}", \
        "setup_env.sh's default torch differs from the lock's"


def test_setup_says_what_it_installs_step_by_step(tmp_path):
    venv, _ = _fake_venv(tmp_path)
    done = _setup_env(tmp_path, VENV=str(venv))
    steps = [line for line in done.stderr.splitlines() if line.startswith("[setup] ")]
    assert [s.split()[1] for s in steps[1:5]] == ["1/4", "2/4", "3/4", "4/4"], steps
    assert "PyTorch (torch==" in steps[2] and "ecgjepa_core and its dependencies" in steps[3]
    assert steps[-1].startswith("[setup] done") and f"source {venv}/bin/activate" in steps[-1]
    again = _setup_env(tmp_path, VENV=str(venv), TORCH_SPEC="torch")  # a changed spec: the venv is updated
    assert "updating" in again.stderr and "first use" not in again.stderr


def test_setup_without_lock_passes_no_constraints(tmp_path):
    venv, log = _fake_venv(tmp_path)
    done = _setup_env(tmp_path, VENV=str(venv), ECGJEPA_LOCK="none")
    assert done.returncode == 0, done.stderr
    assert " -c " not in log.read_text()


def test_existing_interpreter_is_used_without_building_a_venv(tmp_path):
    venv = tmp_path / "venv"
    done = _setup_env(tmp_path, ECGJEPA_PYTHON=sys.executable, VENV=str(venv))
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == Path(sys.executable)
    assert not venv.exists()
    assert "locked packages differ" in done.stderr


def test_existing_interpreter_without_the_package_is_refused(tmp_path):
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    done = _setup_env(tmp_path, ECGJEPA_PYTHON=str(python), VENV=str(tmp_path / "venv"))
    assert done.returncode == 1
    assert "does not import this repository's ecgjepa_core" in done.stderr
    assert done.stdout == "" and not (tmp_path / "venv").exists()


def test_conda_environment_installs_the_lock():
    import yaml

    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    header = LOCK_PATH.read_text().splitlines()[0]
    assert f"(Python {python.split('=')[1]})" in header, "environment.yml's Python differs from the lock's"
    assert f"-c {LOCK_PATH.relative_to(REPO_ROOT).as_posix()}" in pip
    assert f"torch=={read_lock()['torch']}" in pip


def test_every_third_party_import_is_declared():
    """Each package the code and notebooks import belongs to a distribution pyproject.toml names."""
    import ast

    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonical_name(Requirement(r).name) for r in project["dependencies"]}
    providers = metadata.packages_distributions()
    undeclared = {}
    for root in ("ecgjepa_core", "notebooks", "scripts"):
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
                for top in {n.split(".")[0] for n in names} - set(sys.stdlib_module_names) - {"ecgjepa_core"}:
                    dists = {canonical_name(d) for d in providers.get(top, [top])}
                    if not dists & declared:
                        undeclared.setdefault(top, path.relative_to(REPO_ROOT).as_posix())
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
