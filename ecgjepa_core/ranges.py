"""What each configuration field accepts, declared beside the field, and the one check that reads it.

A dataclass field states its allowed values in its metadata::

    epochs: int = field(metadata=count(1, 10_000))
    lr_rb: float = field(metadata=positive(10.0))
    precision: str = field(default="fp32", metadata=one_of("fp32", "bf16", "fp16"))

:func:`check_fields` (each configuration's ``__post_init__`` calls it) refuses a value outside its range,
naming the field and what it accepts; ``study.overrides`` checks a dotted key with :func:`allowed_at`
before it sets it, so a bad ``-p overrides`` value fails before the first notebook with the dotted key.
Numbers must be finite (no NaN, no infinity); upper bounds are generous sanity limits (an absurd width
fails here, naming its key, instead of in the memory allocator).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

KEY = "allowed"  # the metadata key


@dataclass(frozen=True)
class Allowed:
    """The values a field accepts. ``kind``: int, number, choice, list or pair (fixed positions, ``parts``)."""

    kind: str
    low: float | None = None
    high: float | None = None
    above: bool = False            # ``low`` itself excluded
    below: bool = False            # ``high`` itself excluded
    choices: tuple = ()
    each: Allowed | None = None    # list: what every item accepts
    parts: tuple = ()              # pair / tuple of fixed positions: what each position accepts
    min_items: int = 0
    optional: bool = False         # None accepted

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not accepted (``"is below 1"``), or None."""
        if value is None:
            return None if self.optional else "is not set"
        if self.kind in ("list", "pair"):
            if not isinstance(value, (tuple, list)):
                return "is not a list"
            if self.kind == "pair" and len(value) != len(self.parts):
                return f"has {len(value)} items, not {len(self.parts)}"
            if len(value) < self.min_items:
                return f"has fewer than {self.min_items} items"
            for i, item in enumerate(value):
                part = self.each if self.kind == "list" else self.parts[i]
                if reason := part.problem(item):
                    return f"item {i + 1} ({item!r}) {reason}"
            return None
        if self.kind == "choice":
            return None if value in self.choices else "is not among the choices"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "is not a number"
        if self.kind == "int" and not isinstance(value, int):
            return "is not an integer"
        if not math.isfinite(value):
            return "is not finite"
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return f"is {'not above' if self.above else 'below'} {self.low:g}"
        if self.high is not None and (value >= self.high if self.below else value > self.high):
            return f"is {'not below' if self.below else 'above'} {self.high:g}"
        return None

    def __str__(self) -> str:
        text = self._text()
        return f"none or {text}" if self.optional else text

    def _text(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(map(repr, self.choices))
        if self.kind == "list":
            return f"a list{f' of at least {self.min_items}' if self.min_items else ''}, each {self.each}"
        if self.kind == "pair":
            return "(" + ", ".join(map(str, self.parts)) + ")"
        what = "an integer" if self.kind == "int" else "a finite number"
        if None not in (self.low, self.high) and not (self.above or self.below):
            return f"{what} from {self.low:g} to {self.high:g}"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.above else '≥'} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<' if self.below else '≤'} {self.high:g}")
        return f"{what} {' and '.join(bounds)}".strip()

    def message(self, key: str, value: Any, reason: str) -> str:
        return f"{key}={value!r} {reason} (allowed: {self})"


def _meta(allowed: Allowed) -> dict[str, Allowed]:
    return {KEY: allowed}


def count(low: int = 1, high: int = 10_000) -> dict[str, Allowed]:
    """An integer from ``low`` to ``high``."""
    return _meta(Allowed("int", low, high))


def number(low: float | None = None, high: float | None = None, above: bool = False,
           below: bool = False) -> dict[str, Allowed]:
    """A finite number between ``low`` and ``high`` (``above`` / ``below``: the bound itself excluded)."""
    return _meta(Allowed("number", low, high, above, below))


def positive(high: float) -> dict[str, Allowed]:
    """A finite number above 0, at most ``high``."""
    return number(0.0, high, above=True)


def one_of(*choices: Any) -> dict[str, Allowed]:
    return _meta(Allowed("choice", choices=tuple(choices)))


def list_of(each: dict[str, Allowed], min_items: int = 1) -> dict[str, Allowed]:
    """A list (stored as a tuple) whose every item is ``each`` (the metadata of one of the helpers above)."""
    return _meta(Allowed("list", each=each[KEY], min_items=min_items))


def pair(*parts: dict[str, Allowed]) -> dict[str, Allowed]:
    """A tuple of fixed positions, each as its helper states (e.g. ``pair(number(0, 1), number(0, 1))``)."""
    return _meta(Allowed("pair", parts=tuple(p[KEY] for p in parts)))


def optional(meta: dict[str, Allowed]) -> dict[str, Allowed]:
    """None, or what ``meta`` accepts."""
    return _meta(dataclasses.replace(meta[KEY], optional=True))


def check_fields(obj: Any) -> None:
    """ValueError naming the first field of the dataclass ``obj`` whose value its declaration does not accept."""
    for f in dataclasses.fields(obj):
        allowed = f.metadata.get(KEY)
        value = getattr(obj, f.name)
        if allowed is not None and (reason := allowed.problem(value)):
            raise ValueError(allowed.message(f.name, value, reason))


def allowed_at(obj: Any, dotted_key: str) -> Allowed | None:
    """The declaration of the field ``dotted_key`` (``"pretrain.epochs"``) of the nested dataclass ``obj``."""
    *parents, name = dotted_key.split(".")
    for part in parents:
        obj = getattr(obj, part)
    found = {f.name: f for f in dataclasses.fields(obj)}.get(name)
    return found.metadata.get(KEY) if found is not None else None


def divides(width: int, heads: int, what: str) -> None:
    """ValueError unless ``heads`` divides ``width`` (attention splits the width into equal heads)."""
    if width % heads:
        raise ValueError(f"{what} width {width} is not divisible by its {heads} heads")
