"""Shared fixtures. Tests that need ../shared skip where it is absent, except under CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecgjepa_core import paths
from ecgjepa_core.paths import shared_dir


def _require(path: Path, what: str) -> Path:
    if path.exists():
        return path
    reason = f"{what} not found at {path} (set ECGJEPA_SHARED to the folder holding data/)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {reason}: CI must not pass by skipping")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: the real ECG datasets in their official layouts."""
    return _require(shared_dir() / "data", "shared real data")


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    """``tests/golden``: checkpoints and outputs of the authors' implementation, shipped with the repository.

    They ship with every clone, so their absence is a failure, never a skip.
    """
    path = paths.golden_dir()
    if not (path / "official_tiny_reference.npz").is_file():
        pytest.fail(f"golden files of the authors' implementation not found in {path} (ECGJEPA_GOLDEN overrides it)")
    return path
