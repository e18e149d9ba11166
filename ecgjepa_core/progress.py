"""Progress bars for long work only: every bar of the package comes from :func:`progress_bar`.

A bar is drawn only once its work has run for :data:`SHOW_AFTER_S` seconds, and never for a total of
one step (it could only jump from 0/1 to 1/1), so the many short steps of a run (one batch of features, a
probe of a small model) print nothing, while pretraining, fine-tuning, cache building and feature extraction
at scale show their steps, rate and ETA. Text bars, not tqdm's widget bars: inside a kernel without
ipywidgets those warn, and the executed notebooks keep the text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

SHOW_AFTER_S = 1.0  # work shorter than this never draws a bar


def progress_bar(iterable: Iterable | None = None, *, total: float | None = None, disable: bool = False,
                 **kwargs: Any) -> tqdm:
    """``tqdm(iterable, total=…, **kwargs)`` that stays silent for work under :data:`SHOW_AFTER_S` seconds
    and for a single step; ``disable`` switches it off altogether (e.g. ``progress=False``, ranks > 0)."""
    if total is None and iterable is not None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            pass
    return tqdm(iterable, total=total, disable=disable or (total is not None and total <= 1),
                delay=SHOW_AFTER_S, **kwargs)
