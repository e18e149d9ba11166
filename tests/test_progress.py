"""Progress bars: drawn for long work only, from one helper that every bar of the package uses."""

from __future__ import annotations

import io
import re

from ecgjepa_core import progress
from ecgjepa_core.paths import REPO_ROOT


def _drawn(monkeypatch, show_after: float, **kwargs) -> str:
    monkeypatch.setattr(progress, "SHOW_AFTER_S", show_after)
    out = io.StringIO()
    for _ in progress.progress_bar(file=out, desc="work", **kwargs):
        pass
    return out.getvalue()


def test_work_under_the_threshold_draws_no_bar(monkeypatch):
    assert _drawn(monkeypatch, 60.0, iterable=range(50)) == ""


def test_a_single_step_draws_no_bar_however_long(monkeypatch):
    assert _drawn(monkeypatch, 0.0, iterable=range(1)) == ""
    assert _drawn(monkeypatch, 0.0, iterable=iter([1]), total=1) == ""


def test_long_work_draws_its_bar(monkeypatch):
    assert "50/50" in _drawn(monkeypatch, 0.0, iterable=range(50))
    assert _drawn(monkeypatch, 0.0, iterable=range(50), disable=True) == ""


def test_every_bar_of_the_package_comes_from_the_helper():
    direct = [p.relative_to(REPO_ROOT).as_posix() for p in sorted((REPO_ROOT / "ecgjepa_core").rglob("*.py"))
              if p.name != "progress.py" and re.search(r"^\s*(from tqdm|import tqdm)", p.read_text(), re.MULTILINE)]
    assert direct == []
