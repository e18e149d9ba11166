"""What a cache was built from: a fingerprint of the reader's index and of its source files' bytes.

Path, size and mtime are not enough: a file rewritten in place with the same size and its mtime
set back would look unchanged. Each file's content is hashed (SHA-256, about 0.6 GB/s on one
core, so a full PTB-XL costs seconds once). The hashes are kept in the cache (``sources.json``)
keyed by (size, mtime, ctime, inode); a later check re-reads only files whose key changed. The
ctime cannot be set back by a user (every write or ``utime`` updates it), so a file edited in
place is always re-hashed; a file merely touched or copied is re-hashed and, its bytes being
the same, keeps the fingerprint.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

_BLOCK = 1 << 20


def source_roots(reader) -> list[Path]:
    """The reader's source locations: its Path attributes (readers hold only paths and options)."""
    return sorted(Path(v).resolve() for v in vars(reader).values() if isinstance(v, Path))


def file_digest(path: Path) -> str:
    """32 hex digits of SHA-256 over the bytes of ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()[:32]


def source_files(reader, known: dict[str, list] | None = None) -> dict[str, list]:
    """Relative path → [size, mtime_ns, ctime_ns, inode, content digest] of every source file.

    Source files are everything under the reader's Path attributes (a file or a folder tree).
    ``known``: an earlier result; a file whose size, times and inode are unchanged keeps its digest.
    """
    known = known or {}
    table = {}
    for name, (path, key) in source_stats(reader).items():
        old = known.get(name)
        table[name] = key + [old[4] if old and old[:4] == key else file_digest(path)]
    return table


def source_stats(reader) -> dict[str, tuple[Path, list[int]]]:
    """Relative path → (path, [size, mtime_ns, ctime_ns, inode]) of every source file (no file is read)."""
    table = {}
    for root in source_roots(reader):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            st = path.stat()
            table[path.relative_to(root.parent).as_posix()] = (path, [st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                                                                      st.st_ino])
    return table


def source_fingerprint(reader, index: pd.DataFrame, files: dict[str, list]) -> str:
    """16 hex digits of SHA-256 over the reader's type, its index and each file's path, size and digest."""
    h = hashlib.sha256(type(reader).__qualname__.encode())
    h.update(index.to_csv(index=False).encode())
    for name, (size, *_, digest) in sorted(files.items()):
        h.update(f"{name}\t{size}\t{digest}\n".encode())
    return h.hexdigest()[:16]
