"""One result, one run: the identity every table file and kept-score file records.

An identity is the commit (and whether the code differed from it), the profile, the seed, the
overrides and the encoder files (by SHA-256) a table was computed with. ``publish`` writes it
beside each table (``<name>.provenance.json``) with the pretraining runs the table read and the content
of every file it wrote (SHA-256 and one short hash per line); the report compares the identities and says
plainly which differ, or refuses to mix them unless asked to, and refuses a table file whose bytes are
no longer those its run wrote (a hand-edited cell, a truncated file), naming the file and the lines.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ecgjepa_core.errors import UserFileError
from ecgjepa_core.files import atomic_write_text, read_json
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


def content(path: Path, lines: bool = True) -> dict[str, Any]:
    """What a file holds, for :func:`changes`: SHA-256, size and, with ``lines``, a 16-hex hash of each line of a
    text file (to say which lines changed)."""
    data = path.read_bytes()
    record: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    if lines and path.suffix in TEXT_SUFFIXES:
        record["lines"] = [_line_hash(line) for line in _lines(data)]
    return record


def _lines(data: bytes) -> list[bytes]:
    """The lines of ``data``, the last one without its line end (if it has one, no empty line follows)."""
    lines = data.split(b"\n")
    return lines[:-1] if data.endswith(b"\n") else lines


TEXT_SUFFIXES = (".csv", ".md")


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()[:16]


def write_identity(results_dir: Path | str, name: str, ident: dict[str, Any], files: Iterable[Path] = (),
                   runs: list[dict] | None = None) -> Path:
    """``<name>.provenance.json``: ``ident``, the content of each of ``files`` (paths inside ``results_dir``;
    call it once they are final; the tables beside it hashed line by line, the kept scores below it whole) and,
    where given, the pretraining runs the table read."""
    results_dir = Path(results_dir)
    record = {**ident, "files": {p.relative_to(results_dir).as_posix(): content(p, lines=p.parent == results_dir)
                                 for p in files}}
    if runs is not None:
        record["runs"] = runs
    return atomic_write_text(results_dir / f"{name}{SUFFIX}",
                             json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")


def read_identity(results_dir: Path | str, name: str) -> dict[str, Any] | None:
    """The provenance record of table ``name``, None where there is none; UserFileError for an unreadable one."""
    path = Path(results_dir) / f"{name}{SUFFIX}"
    if not path.exists() and not path.is_symlink():
        return None
    record = read_json(path, "provenance record")
    if not isinstance(record, dict):
        raise UserFileError(path, "not a provenance record (a JSON object)")
    return record


def read_identities(results_dir: Path | str, names: list[str]) -> dict[str, dict[str, Any]]:
    """``{table: identity}`` of the tables among ``names`` that have one."""
    found = {name: read_identity(results_dir, name) for name in names}
    return {name: ident for name, ident in found.items() if ident is not None}


def changes(results_dir: Path | str, names: Iterable[str]) -> list[str]:
    """One sentence per file of the tables ``names`` whose bytes are not those its run recorded (edited,
    truncated, missing), naming the file and the lines; and one per table file without a record of its content.
    A table with neither files nor record was not produced and is not named."""
    results_dir = Path(results_dir)
    out = []
    for name in names:
        ident = read_identity(results_dir, name)
        own = [p for p in (results_dir / f"{name}{s}" for s in TEXT_SUFFIXES) if p.exists()]
        if ident is None or "files" not in ident:
            if own:
                out.append(f"{', '.join(p.name for p in own)}: no record of the content its run wrote "
                           f"({name}{SUFFIX} {'lacks it' if ident else 'is missing'}); rerun its notebook")
            continue
        for rel, recorded in sorted(ident["files"].items()):
            if problem := _change(results_dir / rel, recorded):
                out.append(f"{rel} {problem}")
    return out


def _change(path: Path, recorded: dict[str, Any]) -> str | None:
    """How ``path`` differs from ``recorded`` (:func:`content`), or None where it is unchanged."""
    if not path.is_file():
        return "is missing (its run wrote it)"
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() == recorded.get("sha256"):
        return None
    if "lines" not in recorded:
        return f"changed since its run wrote it ({len(data)} bytes, recorded {recorded.get('bytes')})"
    lines, before = _lines(data), recorded["lines"]
    now = [_line_hash(line) for line in lines]
    partial = bool(data) and not data.endswith(b"\n")
    whole = len(now) - partial  # complete lines left
    if whole < len(before) and now[:whole] == before[:whole]:
        cut = ", and part of the next" if partial else ""
        return f"is truncated: {whole} of its {len(before)} lines remain{cut}"
    changed = [i for i in range(max(len(now), len(before)))
               if i >= len(now) or i >= len(before) or now[i] != before[i]]
    shown = "; ".join(f"line {i + 1}: " + (repr(lines[i].decode(errors='replace')[:100]) if i < len(lines)
                                            else "removed") for i in changed[:3])
    more = f" and {len(changed) - 3} more lines" if len(changed) > 3 else ""
    return f"was changed after its run wrote it ({len(changed)} lines differ; now {shown}{more})"


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
