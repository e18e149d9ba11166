"""Dotted-key overrides of a profile: ``{"model.embed_dim": 128, "pretrain.epochs": 10}``.

Any field of a :class:`Profile` can be changed this way, nested dataclasses included (``model``,
``pretrain``, ``evaluation``, the data sources ``ptbxl`` / ``cpsc`` / ``ludb``). A key that names no
field (the closest valid keys first), a key given twice, a value whose type does not fit the field, or
one outside the range the field declares (``ecgjepa_core.ranges``: epochs ≥ 1, a finite lr > 0, heads
that divide the width …) raises :class:`OverrideError` naming the key, before anything runs. The masks
are not overridable through ``model.mask``: each pretraining variant sets its own
(``evaluation.mask_ratios`` holds the ablation's ratios).
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

import yaml

from ecgjepa_core.ranges import allowed_at

# Keys whose value is decided elsewhere or that name the profile itself.
_FIXED = {"name", "model.mask", "pretrain_sources", "requires_gpu", "deviations", "overrides"}


class OverrideError(ValueError):
    """An override names no field of the profile, or its value has the wrong type."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML (and so JSON) whose mappings may not repeat a key: plain YAML keeps the last one silently."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        if repeated := sorted({str(k) for k in keys if keys.count(k) > 1}):
            raise yaml.constructor.ConstructorError(None, None, f"key(s) {repeated} given more than once",
                                                    node.start_mark)
        return super().construct_mapping(node, deep=deep)


def parse_mapping(text: str, what: str, error: type[ValueError]) -> Any:
    """JSON / YAML ``text`` parsed with repeated keys refused; ``error`` naming ``what`` and the place in one
    line instead of a YAML traceback."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        kind = "" if isinstance(err, yaml.constructor.ConstructorError) else " not valid JSON or YAML"
        raise error(f"{what}:{kind}{where}: {problem} (in {text!r})") from None


def parse_overrides(value: str | dict | None) -> dict[str, Any]:
    """A papermill / command-line value (JSON or YAML text, or a dict) -> ``{dotted key: value}``."""
    if value in (None, "", {}):
        return {}
    if isinstance(value, dict):
        return dict(value)
    parsed = parse_mapping(value, "overrides", OverrideError)
    if not isinstance(parsed, dict):
        raise OverrideError(f"overrides must be a mapping of dotted keys to values, got {value!r}")
    return parsed


def overridable_keys(obj: Any, prefix: str = "") -> dict[str, Any]:
    """``{dotted key: current value}`` of every leaf field of the dataclass ``obj``."""
    out = {}
    for f in dataclasses.fields(obj):
        key = f"{prefix}{f.name}"
        if key in _FIXED:
            continue
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.update(overridable_keys(value, key + "."))
        else:
            out[key] = value
    return out


def _coerce(key: str, current: Any, value: Any) -> Any:
    """``value`` in the type of the field's current value, or OverrideError."""
    def fail() -> None:
        raise OverrideError(f"override {key}={value!r}: expected {type(current).__name__} "
                            f"(current value {current!r}), got {type(value).__name__}")
    if isinstance(current, bool):
        if not isinstance(value, bool):
            fail()
        return value
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            fail()
        return value
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail()
        return float(value)
    if isinstance(current, Path):
        if not isinstance(value, (str, Path)):
            fail()
        return Path(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            fail()
        return value
    if isinstance(current, tuple) or current is None:
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            fail()
        return _tuples(value)
    if isinstance(current, dict):
        if not isinstance(value, dict):
            fail()
        return value
    fail()


def _tuples(value: Any) -> Any:
    """Lists (from JSON/YAML) -> tuples, recursively, as the profiles store them."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def _replace_path(obj: Any, parts: list[str], value: Any) -> Any:
    if len(parts) == 1:
        return dataclasses.replace(obj, **{parts[0]: value})
    child = getattr(obj, parts[0])
    return dataclasses.replace(obj, **{parts[0]: _replace_path(child, parts[1:], value)})


def _unknown_keys(unknown: list[str], valid: dict[str, Any]) -> str:
    """The refusal of ``unknown`` keys: the closest valid keys first ("did you mean"), then all of them."""
    close = {k: difflib.get_close_matches(k, list(valid), n=3, cutoff=0.6) for k in unknown}
    hints = "; ".join(f"{k}: did you mean {' or '.join(c)}?" for k, c in close.items() if c)
    return (f"unknown override key(s) {unknown}" + (f" ({hints})" if hints else "")
            + f"; valid keys: {', '.join(sorted(valid))}")


def apply_overrides(profile: Any, overrides: dict[str, Any]) -> Any:
    """``profile`` with every dotted key of ``overrides`` set; validates all keys, types and ranges first."""
    valid = overridable_keys(profile)
    unknown = sorted(k for k in overrides if k not in valid)
    if unknown:
        raise OverrideError(_unknown_keys(unknown, valid))
    out = profile
    for key in sorted(overrides):
        value = _coerce(key, valid[key], overrides[key])
        allowed = allowed_at(profile, key)
        if allowed is not None and (reason := allowed.problem(value)):
            raise OverrideError(f"override {allowed.message(key, value, reason)}")
        try:
            out = _replace_path(out, key.split("."), value)
        except (ValueError, TypeError) as err:  # a dataclass's own validation (e.g. heads divide width)
            raise OverrideError(f"override {key}={overrides[key]!r}: {err}") from None
    return out
