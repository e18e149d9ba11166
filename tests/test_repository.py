"""The repository stands on its own: licence, typing marker, and golden references shipped inside it."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from ecgjepa_core import paths
from ecgjepa_core.paths import REPO_ROOT

GOLDEN = REPO_ROOT / "tests" / "golden"


def test_licence_and_typing_marker_ship():
    tomllib = pytest.importorskip("tomllib")
    assert (REPO_ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (REPO_ROOT / "ecgjepa_core" / "py.typed").is_file()
    package_data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["ecgjepa_core"]


def test_golden_files_match_their_checksums():
    listed = {}
    for line in (GOLDEN / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    present = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*")
               if p.is_file() and p.name not in ("SHA256SUMS", "README.md")}
    assert present == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((GOLDEN / name).read_bytes()).hexdigest() == digest, name


def test_golden_dir_is_the_repository_copy_without_shared(monkeypatch, tmp_path):
    monkeypatch.setenv("ECGJEPA_SHARED", str(tmp_path))
    monkeypatch.delenv("ECGJEPA_GOLDEN", raising=False)
    assert paths.golden_dir() == GOLDEN
    monkeypatch.setenv("ECGJEPA_GOLDEN", str(tmp_path))
    assert paths.golden_dir() == tmp_path.resolve()


@pytest.mark.skipif(shutil.which("git") is None or not (REPO_ROOT / ".git").exists(),
                    reason="not a git checkout")
def test_git_does_not_ignore_the_golden_files():
    files = [p.relative_to(REPO_ROOT).as_posix() for p in GOLDEN.rglob("*") if p.is_file()]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *files], cwd=REPO_ROOT,
                             capture_output=True, text=True).stdout.split()
    assert ignored == []
