"""One result, one run: the identity every table file and kept-score file records.

An identity is the commit (and whether the code differed from it), the profile, the seed, the
overrides and the encoder files (by SHA-256) a table was computed with. ``publish`` writes it
beside each table (``<name>.provenance.json``); the report compares them all and says plainly which
differ, or refuses to mix them unless asked to.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ecgjepa_core.paths import REPO_ROOT

SUFFIX = ".provenance.json"
# Fields that must agree for tables to belong to one result.
SHARED_FIELDS = ("commit", "dirty", "profile", "seed", "overrides", "encoders")


def git_state() -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool}``; results/ is left out because runs write there."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
        except OSError:  # no git on the machine: the identity says "unknown" rather than failing the run
            return ""
    changed = git("status", "--porcelain", "--", ".", ":!results")
    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(changed)}


def identity(profile: str, seed: int, overrides: dict, encoders: dict[str, dict]) -> dict[str, Any]:
    """What produced a result: code, profile, seed, overrides, encoder files."""
    return {**git_state(), "profile": profile, "seed": seed, "overrides": overrides, "encoders": encoders}


def write_identity(results_dir: Path | str, name: str, ident: dict[str, Any]) -> Path:
    path = Path(results_dir) / f"{name}{SUFFIX}"
    path.write_text(json.dumps(ident, indent=1, sort_keys=True, default=str) + "\n")
    return path


def read_identities(results_dir: Path | str, names: list[str]) -> dict[str, dict[str, Any]]:
    """``{table: identity}`` of the tables among ``names`` that have one."""
    out = {}
    for name in names:
        path = Path(results_dir) / f"{name}{SUFFIX}"
        if path.exists():
            out[name] = json.loads(path.read_text())
    return out


def _short(value: Any) -> str:
    if isinstance(value, str) and len(value) == 40:
        return value[:12]
    return json.dumps(value, sort_keys=True, default=str)


def differences(identities: dict[str, dict[str, Any]]) -> list[str]:
    """One sentence per field on which the tables disagree, naming which table has which value."""
    out = []
    for field in SHARED_FIELDS:
        by_value: dict[str, list[str]] = {}
        for name, ident in identities.items():
            by_value.setdefault(_short(ident.get(field)), []).append(name)
        if len(by_value) > 1:
            parts = "; ".join(f"{value} in {', '.join(names)}" for value, names in by_value.items())
            out.append(f"{field} differs: {parts}")
    return out
