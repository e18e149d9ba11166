"""The pinned Python environment: the lock file, its identity, and how the running interpreter differs from it.

``requirements/lock-cpu.txt`` pins every distribution of the environment the committed results were
computed in (``pip freeze`` of that ``.venv``, this package left out, local build labels such as ``+cpu``
dropped so that a CUDA build of the same torch satisfies it). ``scripts/setup_env.sh`` installs with it as
pip constraints. ``python -m ecgjepa_core.environment check`` lists the differences of the running
interpreter; ``... write`` rewrites the lock from it.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from importlib import metadata
from pathlib import Path

from ecgjepa_core.paths import REPO_ROOT

LOCK_PATH = REPO_ROOT / "requirements" / "lock-cpu.txt"
# Installers and this package itself: never pinned by the lock.
UNLOCKED = frozenset({"ecgjepa-core", "pip", "setuptools", "wheel"})
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name: ``PyYAML`` -> ``pyyaml``, ``jupyter_client`` -> ``jupyter-client``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def public_version(version: str) -> str:
    """The version without its local label: ``2.13.0+cpu`` -> ``2.13.0``."""
    return version.split("+", 1)[0]


def read_lock(path: Path = LOCK_PATH) -> dict[str, str]:
    """``{canonical name: version}`` of a lock of ``name==version`` lines (comments and blanks allowed)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"lock file {path} not found")
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        if match is None:
            raise ValueError(f"{path}, line {number}: expected 'name==version', got {raw!r}")
        name = canonical_name(match.group(1))
        if name in pins:
            raise ValueError(f"{path}, line {number}: {match.group(1)} is pinned twice")
        pins[name] = match.group(2)
    return pins


def lock_identity(path: Path = LOCK_PATH) -> dict[str, str]:
    """``{"path": ..., "sha256": ...}`` of the lock, the path relative to the repository where it lies inside."""
    path = Path(path).resolve()
    shown = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
    return {"path": shown, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def installed_versions() -> dict[str, str]:
    """``{canonical name: public version}`` of the distributions the running interpreter sees, less ``UNLOCKED``."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and canonical_name(name) not in UNLOCKED:
            found.setdefault(canonical_name(name), public_version(dist.version))
    return found


def lock_mismatches(path: Path = LOCK_PATH) -> dict[str, tuple[str, str | None]]:
    """``{name: (locked, installed or None)}`` for every locked distribution the running interpreter lacks or
    has at another version. Empty when the environment is the locked one (extra, unlocked packages allowed)."""
    have = installed_versions()
    return {name: (version, have.get(name)) for name, version in read_lock(path).items()
            if have.get(name) != public_version(version)}


def write_lock(path: Path = LOCK_PATH) -> int:
    """Pin every distribution of the running interpreter into ``path``; returns how many."""
    pins = installed_versions()
    header = ("# Versions of the environment the committed results were computed in (Python "
              f"{sys.version_info.major}.{sys.version_info.minor}).\n"
              "# scripts/setup_env.sh installs with this file as pip constraints (-c); ECGJEPA_LOCK=none opts out.\n"
              "# Regenerate from a working environment: python -m ecgjepa_core.environment write\n")
    Path(path).write_text(header + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins)))
    return len(pins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecgjepa_core.environment", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("check", "write"),
                        help="check: list how this interpreter differs from the lock (exit 1 if it does); "
                             "write: rewrite the lock from this interpreter")
    parser.add_argument("--lock", type=Path, default=LOCK_PATH, help="lock file (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.action == "write":
        print(f"wrote {write_lock(args.lock)} pins to {args.lock}")
        return 0
    differ = lock_mismatches(args.lock)
    for name, (locked, have) in sorted(differ.items()):
        print(f"{name}: locked {locked}, installed {have or 'none'}")
    print(f"{len(differ)} of {len(read_lock(args.lock))} locked packages differ from {args.lock}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
