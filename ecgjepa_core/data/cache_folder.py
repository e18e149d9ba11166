"""Where a cache folder may live and how a finished build replaces it without losing anyone's files.

Rules:

* A cache folder never overlaps raw data: it is not inside a reader's source folder, and no
  source folder is inside it (:func:`refuse_overlap`).
* A build writes into ``.<name>.building-<pid>/`` next to the cache and marks it with
  ``.ecgjepa-cache``; only a folder so marked (or an older cache holding nothing but cache
  files) is ever replaced.
* The swap deletes only the files a build creates (``BUILD_FILES``). Anything else found in the
  old folder (a user's notes, a table another step wrote there) is moved into the new one.
* The swap runs under an exclusive lock on ``.<name>.lock``, so two processes finishing the same
  cache one after the other each replace a complete cache, never a half-moved one.
* Leftovers of killed builds (``.<name>.building-<pid>/``, ``.<name>.old-<pid>/`` of a process
  that no longer runs) are removed at the next build, again only if they hold nothing but
  build files; otherwise they are left in place with a warning naming them.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = ".ecgjepa-cache"
SIGNALS, RECORDS, INFO, SOURCES = "signals.npy", "records.csv", "info.json", "sources.json"
BUILD_FILES = frozenset({MARKER, SIGNALS, RECORDS, INFO, SOURCES})
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:building|old)-(?P<pid>\d+)$")


class CacheLocationError(ValueError):
    """The cache folder overlaps raw data, or holds files that are not a cache's."""


def refuse_overlap(out_dir: Path, roots: Sequence[Path]) -> None:
    """CacheLocationError if ``out_dir`` is, is inside, or contains one of the raw data ``roots``."""
    for root in roots:
        base = root if root.is_dir() else root.parent
        if out_dir == base or base in out_dir.parents:
            raise CacheLocationError(f"{out_dir}: refusing to write a cache inside the raw data folder {base}; "
                                     "use e.g. cache/ in the repository or another folder")
        if out_dir in base.parents:
            raise CacheLocationError(f"{out_dir}: refusing to use it as a cache folder: it contains the raw data "
                                     f"folder {base}; move the data out or choose another cache folder")


def mark_as_build(folder: Path) -> None:
    """Create ``folder`` with the marker that lets a later build replace it."""
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("ecgjepa prepared cache: built by ecgjepa_core.data.cache; "
                                 "a rebuild replaces only the files it wrote\n")


def is_cache_folder(folder: Path) -> bool:
    """True for a folder a build made (marker) or an older cache made only of cache files."""
    if (folder / MARKER).is_file():
        return True
    names = {p.name for p in folder.iterdir()}
    return INFO in names and names <= BUILD_FILES


def _foreign_entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in BUILD_FILES)


def _delete_build_files(folder: Path) -> None:
    """Delete the build files of ``folder`` and the folder if that empties it; warn if it does not."""
    for name in BUILD_FILES:
        (folder / name).unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        log.warning("%s: left in place, it holds files no cache build wrote: %s", folder, _foreign_entries(folder))


@contextlib.contextmanager
def locked(out_dir: Path, exclusive: bool = True) -> Iterator[None]:
    """Lock on ``.<name>.lock`` beside ``out_dir`` (the lock file itself is kept).

    ``exclusive=False`` (readers of a cache) takes a shared lock, and none where the lock file
    cannot be created (a read-only cache location has no builder to wait for).
    """
    lock = out_dir.with_name(f".{out_dir.name}.lock")
    try:
        if exclusive:
            lock.parent.mkdir(parents=True, exist_ok=True)
        f = open(lock, "a")
    except OSError:
        if exclusive:
            raise
        yield
        return
    with f:
        fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def swap_in(built: Path, out_dir: Path) -> None:
    """Make the finished build folder ``built`` the cache ``out_dir``, keeping others' files.

    An existing ``out_dir`` that is not a cache folder is refused (CacheLocationError).
    """
    with locked(out_dir):
        if not out_dir.exists():
            built.rename(out_dir)
            return
        if not out_dir.is_dir() or not is_cache_folder(out_dir):
            raise CacheLocationError(f"{out_dir}: exists and is not a cache folder (no {MARKER}; holds "
                                     f"{_foreign_entries(out_dir)[:5] if out_dir.is_dir() else 'a file'}); "
                                     "refusing to replace it")
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        out_dir.rename(old)
        built.rename(out_dir)
        for name in _foreign_entries(old):
            (old / name).rename(out_dir / name)
        _delete_build_files(old)


def process_running(pid: int) -> bool:
    """Whether process ``pid`` still runs (leftovers of a running process are not ours to remove)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Remove build and swap folders of ``out_dir`` left by processes that no longer run → removed."""
    removed = []
    if not out_dir.parent.is_dir():
        return removed
    for folder in out_dir.parent.iterdir():
        match = _LEFTOVER.match(folder.name)
        if not match or match["name"] != out_dir.name or not folder.is_dir() or process_running(int(match["pid"])):
            continue
        if foreign := _foreign_entries(folder):
            log.warning("%s: leftover of a stopped build kept, it holds files no build wrote: %s", folder, foreign)
            continue
        _delete_build_files(folder)
        removed.append(folder)
    return removed
