"""Where the repository, the shipped sample, the golden references and the shared real data live."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
GOLDEN_REPO_DIR = REPO_ROOT / "tests" / "golden"


def shared_dir() -> Path:
    """The folder holding the real datasets (``../shared`` by default).

    ``ECGJEPA_SHARED`` overrides it. The folder may not exist (a user's fresh clone).
    """
    return Path(os.environ.get("ECGJEPA_SHARED", REPO_ROOT.parent / "shared")).resolve()


def golden_dir() -> Path:
    """The outputs and tiny checkpoints of the authors' code that the exactness tests compare with.

    The copy shipped in the repository (``tests/golden``) by default; ``ECGJEPA_GOLDEN`` overrides it.
    """
    override = os.environ.get("ECGJEPA_GOLDEN")
    return Path(override).resolve() if override else GOLDEN_REPO_DIR
