"""Encoders from anywhere: a weights file standing in for one of the study's pretrained rows.

The papermill parameter ``encoders`` maps a row key (``rb``, ``mb``) to a file, in a short form
``"mb=/w/multiblock_epoch100.pth,rb=/w/random_epoch100.pth"`` or a long form (JSON / YAML)
``{"mb": {"path": "/w/x.pth", "num_heads": 4}}``. A file is the authors' release
(``{'encoder': …, 'epoch': …}``), their whole-model state dict, or our own checkpoint. Width, depth,
lead count and patch size are read from the weights; the head count, which the weights do not
determine, defaults to the paper's 16. Rows computed from such a file are labelled with its name and
SHA-256, never as this study's pretraining.

The row ``weimann`` takes Weimann & Conrad's files instead: their pretraining checkpoint or minified
encoder (``load_weimann_encoder``; the configuration is read from the file), or a pretraining state
of this project's loop (``checkpoint.pt`` of a Weimann run); its target encoder is the one evaluated.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from ecgjepa_core.checkpoint import (FORMAT, load_checkpoint, load_official_encoder, load_state_strict,
                                    load_weimann_encoder, read_checkpoint_file)
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.models.weimann import WeimannEncoder
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.training.pretrain import STATE_FORMAT

PAPER_HEADS = 16
ROW_KEYS = ("rb", "mb", "weimann")  # the study rows a file can stand in for
WEIMANN_KEY = "weimann"


class EncoderSpecError(ValueError):
    """The ``encoders`` parameter cannot be read, names an unknown row, or a file is missing."""


@dataclass(frozen=True)
class EncoderSource:
    """A weights file for the row ``key``; ``options`` go to the model (only ``num_heads`` today)."""

    key: str
    path: Path
    num_heads: int = PAPER_HEADS
    options: dict = field(default_factory=dict, compare=False)

    @cached_property
    def sha256(self) -> str:
        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    @property
    def label(self) -> str:
        """How tables name the encoder: ``checkpoint multiblock_epoch100.pth (sha256 0123456789ab)``."""
        return f"checkpoint {self.path.name} (sha256 {self.sha256[:12]})"

    def identity(self) -> dict[str, Any]:
        """What the manifest and table notes record about this file."""
        return {"key": self.key, "path": str(self.path), "sha256": self.sha256, "num_heads": self.num_heads}


def _short_form(text: str) -> dict[str, Any]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, path = part.partition("=")
        if not sep or not key.strip() or not path.strip():
            raise EncoderSpecError(f"encoders: {part!r} is not KEY=PATH (e.g. mb=/w/multiblock_epoch100.pth)")
        out[key.strip()] = {"path": path.strip()}
    return out


def parse_encoders(spec: str | dict | None) -> dict[str, EncoderSource]:
    """The ``encoders`` parameter -> ``{row key: EncoderSource}``; checks keys, options and that files exist."""
    if spec in (None, "", {}):
        return {}
    if isinstance(spec, str):
        text = spec.strip()
        if text[:1] in "{[":
            import yaml

            spec = yaml.safe_load(text)
        else:
            spec = _short_form(text)
    if not isinstance(spec, dict):
        raise EncoderSpecError(f"encoders must map row keys to files, got {spec!r}")
    out = {}
    for key, entry in spec.items():
        if key not in ROW_KEYS:
            raise EncoderSpecError(f"encoders: unknown row {key!r}; a file can stand in for {', '.join(ROW_KEYS)}")
        entry = {"path": entry} if isinstance(entry, (str, Path)) else dict(entry)
        if "path" not in entry:
            raise EncoderSpecError(f"encoders: {key!r} has no 'path'")
        path = Path(entry.pop("path")).expanduser().resolve()
        heads = entry.pop("num_heads", PAPER_HEADS)
        if entry:
            raise EncoderSpecError(f"encoders: {key!r} has unknown option(s) {sorted(entry)}; known: path, num_heads")
        if not isinstance(heads, int) or isinstance(heads, bool) or heads < 1:
            raise EncoderSpecError(f"encoders: {key!r} num_heads must be a positive integer, got {heads!r}")
        if not path.is_file():
            raise EncoderSpecError(f"encoders: {key!r} file not found: {path}")
        out[key] = EncoderSource(key, path, heads)
    return out


def canonical_encoders(sources: dict[str, EncoderSource]) -> str:
    """``sources`` as the long form (JSON) with absolute paths: what the notebooks receive, wherever they run."""
    return json.dumps({k: {"path": str(s.path), "num_heads": s.num_heads} for k, s in sources.items()},
                      sort_keys=True)


def _authors_shape(state: dict[str, torch.Tensor], source: Path) -> dict[str, int]:
    """Width, depth, leads and patch size of an authors' encoder state dict."""
    try:
        pos, patch = state["pos_embed"], state["W_P.weight"]
    except KeyError as err:
        raise EncoderSpecError(f"{source}: no {err.args[0]} in the encoder weights; is this an ECG-JEPA encoder?") \
            from None
    blocks = {int(m.group(1)) for k in state if (m := re.match(r"encoder_blocks\.blocks\.(\d+)\.", k))}
    embed_dim, patch_size = int(patch.shape[0]), int(patch.shape[1])
    n_patches = 2500 // patch_size
    n_tokens = int(pos.reshape(-1, embed_dim).shape[0])
    if n_tokens % n_patches:
        raise EncoderSpecError(f"{source}: {n_tokens} positions do not tile {n_patches} patches of {patch_size} samples")
    return {"embed_dim": embed_dim, "depth": len(blocks), "n_leads": n_tokens // n_patches,
            "n_patches": n_patches, "patch_size": patch_size}


def load_weimann(path: Path) -> WeimannEncoder:
    """The target encoder of a Weimann & Conrad file (their formats, or our loop's ``checkpoint.pt``), eval mode."""
    obj = read_checkpoint_file(path)
    if isinstance(obj, dict) and obj.get("format") == STATE_FORMAT:
        try:
            cfg = WeimannConfig.from_dict(obj["model_config"])
        except (KeyError, TypeError, ValueError) as err:
            raise EncoderSpecError(f"{path}: a pretraining state of this project, but not of a Weimann run ({err})") \
                from None
        encoder = WeimannEncoder(cfg)
        load_state_strict(encoder, {k[len("target_encoder."):]: v for k, v in obj["model"].items()
                                    if k.startswith("target_encoder.")}, path)
        return encoder.eval()
    return load_weimann_encoder(path)


def load_encoder(source: EncoderSource) -> Encoder | WeimannEncoder:
    """The encoder stored in ``source.path`` (eval mode, drop path 0)."""
    if source.key == WEIMANN_KEY:
        return load_weimann(source.path)
    obj = torch.load(source.path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        model, _ = load_checkpoint(source.path, drop_path_rate=0.0)
        return (model.student if obj.get("kind") == "jepa" else model).eval()
    state = obj["encoder"] if isinstance(obj, dict) and isinstance(obj.get("encoder"), dict) else obj
    if any(k.startswith("encoder.") for k in state):
        state = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
    shape = _authors_shape(state, source.path)
    return load_official_encoder(source.path, num_heads=source.num_heads, **shape)
