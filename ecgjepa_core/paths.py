"""Where the repository, the shipped sample and the shared real data live."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "data" / "sample"


def shared_dir() -> Path:
    """The folder holding the real datasets and the golden files (``../shared`` by default).

    ``ECGJEPA_SHARED`` overrides it. The folder may not exist (a user's fresh clone).
    """
    return Path(os.environ.get("ECGJEPA_SHARED", REPO_ROOT.parent / "shared")).resolve()
