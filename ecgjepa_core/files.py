"""Writing a file so that a failure never leaves a partial one (:func:`atomic_write` and its text form), and
reading a JSON file with a one-line error naming it (:func:`read_json`).

The bytes go to a temporary file beside the target, are synced, and replace the target in one rename.
On any failure (a full disk, a writer that raises) the temporary file is removed and the target keeps
its earlier content; a failure of the file system is an ``OSError`` that names the target, whatever
the writer turned it into (torch reports a full disk as ``unexpected pos …``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ecgjepa_core.errors import UserFileError, require_file


class _KeepsWriteError:
    """A file object that remembers the OSError its ``write`` raised, for writers that replace it by their own."""

    def __init__(self, f: BinaryIO):
        self._f, self.error = f, None

    def write(self, data: Any) -> int:
        try:
            return self._f.write(data)
        except OSError as err:
            self.error = err
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


def _naming(err: OSError, path: Path) -> OSError:
    """``err`` as an OSError of the same kind that names ``path`` (``[Errno 28] No space left on device: …``)."""
    return OSError(err.errno, err.strerror or str(err), str(path))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[BinaryIO], Any], private: bool = True) -> Path:
    """``write(f)`` into a temporary file in the target folder, fsync, then rename over ``path``.

    ``private``: mode 0600 whatever the umask (weights and optimiser state are the user's alone until they
    share them); else the umask's usual mode (results tables). The temporary name
    ``.<name>.<pid>.<random>.tmp`` carries the writer's process id, so a killed write's leftover can be told
    from one in progress (``checkpoint.remove_stale_temporaries``).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _naming(err, path) from None
    out = None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600 if private else 0o666 & ~_umask())
            out = _KeepsWriteError(f)
            write(out)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        cause = err if isinstance(err, OSError) else out.error if out is not None else None
        if cause is not None:
            raise _naming(cause, path) from None
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """``text`` (UTF-8) at ``path`` through :func:`atomic_write`, with the umask's usual mode."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")), private=False)


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """The JSON value in ``path``, or a UserFileError naming the file and what is wrong with it (missing, a
    folder, empty, truncated or not JSON) instead of a bare ``JSONDecodeError``."""
    path = require_file(path, what)
    text = path.read_text(errors="replace")
    if not text.strip():
        raise UserFileError(path, f"{what} is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        cut = "; the file ends early (truncated?)" if err.pos >= len(text.rstrip()) else ""
        raise UserFileError(path, f"{what} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}{cut})") \
            from None
