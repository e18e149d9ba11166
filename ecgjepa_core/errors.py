"""The one error type for a file or folder that cannot be used, and the checks of what a path is.

Every problem with a user's file (a dataset, a weights file, a results table, the manifest, a folder
given on the command line) is a :class:`UserFileError`: one line, ``<path>: <problem>``. The more
specific errors of the readers and loaders (``DatasetError``, ``CorruptCheckpointError`` …) are
subclasses, so one ``except UserFileError`` catches them all and the runner prints that line alone.
"""

from __future__ import annotations

from pathlib import Path


class UserFileError(RuntimeError):
    """``path`` cannot be used; ``problem`` says why in a few words (the message: ``<path>: <problem>``)."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = Path(path), " ".join(str(problem).split())  # one line, whatever it quotes
        super().__init__(f"{path}: {self.problem}")

    def __reduce__(self):  # picklable across a process pool whatever the subclass's constructor takes
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls: type, args: tuple, state: dict) -> UserFileError:
    err = (OSError if issubclass(cls, OSError) else Exception).__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class MissingFileError(UserFileError, FileNotFoundError):
    """The path does not exist (a :class:`UserFileError` that ``except FileNotFoundError`` also catches)."""


def what_is(path: Path) -> str:
    """``path`` in words: "a folder", "a file", "a broken link", "missing"."""
    if path.is_dir():
        return "a folder"
    if path.is_file():
        return "a file"
    if path.is_symlink():
        return "a broken link"
    return "missing" if not path.exists() else "neither a file nor a folder"


def require_file(path: Path | str, what: str = "file", error: type[UserFileError] | None = None) -> Path:
    """``path`` if it is a regular file (or a link to one); else ``error`` (default: MissingFileError where
    nothing is there, UserFileError otherwise) saying what it is instead."""
    path = Path(path)
    if not path.is_file():
        _refuse(path, what, error)
    return path


def require_folder(path: Path | str, what: str = "folder", error: type[UserFileError] | None = None) -> Path:
    """``path`` if it is a folder; else ``error`` (as :func:`require_file`) saying what it is instead."""
    path = Path(path)
    if not path.is_dir():
        _refuse(path, what, error)
    return path


def _refuse(path: Path, what: str, error: type[UserFileError] | None) -> None:
    found = what_is(path)
    if found == "missing":
        raise (error or MissingFileError)(path, f"{what} not found")
    raise (error or UserFileError)(path, f"is {found}, expected {_article(what)} {what}")


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"
