"""Encoders from anywhere: a weights file standing in for one of the study's pretrained rows.

The papermill parameter ``encoders`` maps a row key (``rb``, ``mb``) to a file, in a short form
``"mb=/w/multiblock_epoch100.pth,rb=/w/random_epoch100.pth"`` or a long form (JSON / YAML)
``{"mb": {"path": "/w/x.pth", "num_heads": 4}}``; a row named twice is refused. A file is the authors'
release (``{'encoder': …, 'epoch': …}``), their whole-model state dict, our own checkpoint, or a
pretraining state of this project's loop (``checkpoint.pt``, whose student is evaluated). Width, depth,
lead count and patch size are read from the weights, and so is the head count where the file stores its
configuration (ours). The authors' files do not store it: the short form assumes the paper's 16 heads
only for the paper's 768-wide encoder and otherwise asks for ``num_heads`` (the long form). Every file is
read when the parameter is parsed, so a damaged, non-finite or misnamed file fails before the first
notebook. Rows computed from such a file are labelled with its name and SHA-256, never as this study's
pretraining, and the captions describe the file's model.

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

from ecgjepa_core.checkpoint import (FORMAT, CheckpointMismatchError, load_checkpoint, load_official_encoder,
                                    load_state_strict, load_weimann_encoder, read_checkpoint_file)
from ecgjepa_core.errors import require_file
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.models.weimann import WeimannEncoder
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.study.overrides import parse_mapping
from ecgjepa_core.training.pretrain import STATE_FORMAT

PAPER_HEADS, PAPER_WIDTH = 16, 768
ROW_KEYS = ("rb", "mb", "weimann")  # the study rows a file can stand in for
WEIMANN_KEY = "weimann"


class EncoderSpecError(ValueError):
    """The ``encoders`` parameter cannot be read, names an unknown row, or a file does not fit its row."""


@dataclass(frozen=True)
class FileModel:
    """What a weights file holds, read from the file: its format and the encoder's size.

    ``kind``: ``authors`` (Kim's release or whole-model state dict), ``ecgjepa`` (our checkpoint),
    ``kim-state`` / ``weimann-state`` (a pretraining state of this project's loop), ``weimann`` (their files).
    ``num_heads`` is None where the file does not store it (``authors``); ``shape``: the authors' encoder's
    width, depth, leads and patching (what ``load_official_encoder`` needs besides the heads).
    """

    kind: str
    embed_dim: int
    depth: int
    num_heads: int | None
    shape: dict = field(default_factory=dict, compare=False)

    @property
    def family(self) -> str:
        return "weimann" if self.kind.startswith("weimann") else "kim"


@dataclass(frozen=True)
class EncoderSource:
    """A weights file for the row ``key``; ``num_heads``: the encoder's head count (read from the file, or
    given for the authors' files); ``model``: what the file holds."""

    key: str
    path: Path
    num_heads: int = PAPER_HEADS
    model: FileModel | None = field(default=None, compare=False)

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

    @property
    def model_text(self) -> str:
        """The file's encoder in words, for the captions: ``encoder 64 wide, 2 blocks, 4 heads``."""
        m = self.model
        if m is None:
            return f"encoder with {self.num_heads} heads"
        return f"{'ViT' if m.family == 'weimann' else 'encoder'} {m.embed_dim} wide, {m.depth} blocks, " \
               f"{self.num_heads} heads"

    def identity(self) -> dict[str, Any]:
        """What the manifest and table notes record about this file."""
        return {"key": self.key, "path": str(self.path), "sha256": self.sha256, "num_heads": self.num_heads}


def _short_form(text: str) -> dict[str, Any]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, path = part.partition("=")
        if not sep or not key.strip() or not path.strip():
            raise EncoderSpecError(f"encoders: {part!r} is not KEY=PATH (e.g. mb=/w/multiblock_epoch100.pth)")
        if key.strip() in out:
            raise EncoderSpecError(f"encoders: row {key.strip()!r} given twice ({out[key.strip()]['path']} and "
                                   f"{path.strip()}); give each row one file")
        out[key.strip()] = {"path": path.strip()}
    return out


def parse_encoders(spec: str | dict | None) -> dict[str, EncoderSource]:
    """The ``encoders`` parameter -> ``{row key: EncoderSource}``; checks keys and options, and reads each file
    (it must exist, be intact and fit its row; see :func:`inspect_file`)."""
    if spec in (None, "", {}):
        return {}
    if isinstance(spec, str):
        text = spec.strip()
        spec = parse_mapping(text, "encoders", EncoderSpecError) if text[:1] in "{[" else _short_form(text)
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
        heads = entry.pop("num_heads", None)
        if entry:
            raise EncoderSpecError(f"encoders: {key!r} has unknown option(s) {sorted(entry)}; known: path, num_heads")
        if heads is not None and (not isinstance(heads, int) or isinstance(heads, bool) or heads < 1):
            raise EncoderSpecError(f"encoders: {key!r} num_heads must be a positive integer, got {heads!r}")
        if not path.exists():
            raise EncoderSpecError(f"encoders: {key!r} file not found: {path}")
        require_file(path, "encoder file")
        model = inspect_file(path, key)
        out[key] = EncoderSource(key, path, _head_count(key, path, model, heads), model)
    return out


def _head_count(key: str, path: Path, model: FileModel, given: int | None) -> int:
    """The heads of the file's encoder: stored in the file, given, or the paper's 16 for the paper's width."""
    if model.num_heads is not None:
        if given is not None and given != model.num_heads:
            raise EncoderSpecError(f"encoders: {key!r} num_heads {given}, but {path} stores a model of "
                                   f"{model.num_heads} heads; leave num_heads out")
        return model.num_heads
    if given is None:
        if model.embed_dim != PAPER_WIDTH:
            example = json.dumps({key: {"path": str(path), "num_heads": 4}})
            raise EncoderSpecError(
                f"encoders: {key!r} {path} is an authors' encoder {model.embed_dim} wide, {model.depth} blocks, and "
                f"their files do not store the head count: the paper's {PAPER_HEADS} heads belong to its "
                f"{PAPER_WIDTH}-wide encoder, so give the count (a divisor of {model.embed_dim}), e.g. "
                f"-p encoders '{example}'")
        return PAPER_HEADS
    if model.embed_dim % given:
        raise EncoderSpecError(f"encoders: {key!r} num_heads {given} does not divide the width {model.embed_dim} "
                               f"of {path}")
    return given


def rows_without_file(profile: Any, sources: dict) -> list[str]:
    """The main rows (rb, mb) that a profile which pretrains nothing (``paper-eval``) needs as files and
    ``sources`` lacks: every table reads both."""
    return [] if profile.pretrains else [k for k in ("rb", "mb") if k not in sources]


def canonical_encoders(sources: dict[str, EncoderSource]) -> str:
    """``sources`` as the long form (JSON) with absolute paths: what the notebooks receive, wherever they run."""
    return json.dumps({k: {"path": str(s.path), "num_heads": s.num_heads} for k, s in sources.items()},
                      sort_keys=True)


def _authors_shape(state: dict, source: Path) -> dict[str, int]:
    """Width, depth, leads and patch size of an authors' encoder state dict."""
    missing = [k for k in ("pos_embed", "W_P.weight")
               if not isinstance(state, dict) or not hasattr(state.get(k), "shape")]
    if missing:
        found = ", ".join(sorted(map(str, state))[:4]) if isinstance(state, dict) else f"a {type(state).__name__}"
        raise CheckpointMismatchError(source, f"neither an ECG-JEPA encoder of the authors nor a checkpoint of this "
                                              f"project: no {' or '.join(missing)} (found e.g. {found})")
    pos, patch = state["pos_embed"], state["W_P.weight"]
    blocks = {int(m.group(1)) for k in state if (m := re.match(r"encoder_blocks\.blocks\.(\d+)\.", k))}
    embed_dim, patch_size = int(patch.shape[0]), int(patch.shape[1])
    n_patches = 2500 // patch_size
    n_tokens = int(pos.reshape(-1, embed_dim).shape[0])
    if n_tokens % n_patches:
        raise CheckpointMismatchError(source, f"{n_tokens} positions do not tile {n_patches} patches of "
                                              f"{patch_size} samples")
    return {"embed_dim": embed_dim, "depth": len(blocks), "n_leads": n_tokens // n_patches,
            "n_patches": n_patches, "patch_size": patch_size}


def _authors_state(obj: Any) -> Any:
    """The encoder state dict inside an authors' file (release dict, encoder or whole-model state dict)."""
    state = obj["encoder"] if isinstance(obj, dict) and isinstance(obj.get("encoder"), dict) else obj
    if isinstance(state, dict) and any(str(k).startswith("encoder.") for k in state):
        state = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
    return state


def inspect_file(path: Path, key: str) -> FileModel:
    """What ``path`` holds (its format and encoder size), read from the file; CorruptCheckpointError for a
    damaged or unreadable file, CheckpointMismatchError for one that is no encoder, EncoderSpecError for an
    encoder of the other family than the row ``key``."""
    obj = read_checkpoint_file(path)
    config = obj.get("config") if isinstance(obj, dict) else None
    if isinstance(obj, dict) and obj.get("format") == FORMAT and isinstance(config, dict):
        model = FileModel("ecgjepa", config.get("embed_dim"), config.get("depth"), config.get("num_heads"))
    elif isinstance(obj, dict) and obj.get("format") == STATE_FORMAT and isinstance(obj.get("model_config"), dict):
        cfg = obj["model_config"]
        model = (FileModel("weimann-state", cfg.get("dim"), cfg.get("depth"), cfg.get("num_heads")) if "dim" in cfg
                 else FileModel("kim-state", cfg.get("embed_dim"), cfg.get("depth"), cfg.get("num_heads")))
    elif isinstance(obj, dict) and "model" in obj and isinstance(config, dict):
        model = FileModel("weimann", config.get("dim"), config.get("depth"), config.get("num_heads"))
    else:
        shape = _authors_shape(_authors_state(obj), path)
        model = FileModel("authors", shape["embed_dim"], shape["depth"], None, shape)
    if (model.family == "weimann") != (key == WEIMANN_KEY):
        kinds = {"weimann": "Weimann & Conrad's model", "kim": "Kim's ECG-JEPA"}
        rows = "weimann" if model.family == "weimann" else "rb or mb"
        raise EncoderSpecError(f"encoders: {key!r} {path} holds {kinds[model.family]} ({model.kind} file); give it "
                               f"for the row {rows}")
    return model


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
        load_state_strict(encoder, _prefixed(obj["model"], "target_encoder."), path)
        return encoder.eval()
    return load_weimann_encoder(path)


def _prefixed(state: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def load_encoder(source: EncoderSource) -> Encoder | WeimannEncoder:
    """The encoder stored in ``source.path`` (eval mode, drop path 0)."""
    if source.key == WEIMANN_KEY:
        return load_weimann(source.path)
    model = source.model or inspect_file(source.path, source.key)
    if model.kind == "ecgjepa":
        loaded, _ = load_checkpoint(source.path, drop_path_rate=0.0)
        return (loaded if isinstance(loaded, Encoder) else loaded.student).eval()
    if model.kind == "kim-state":  # the student, as the run's encoder_epochNNN.pt would hold it
        obj = read_checkpoint_file(source.path)
        try:
            cfg = ModelConfig.from_dict({**obj["model_config"], "drop_path_rate": 0.0})
        except (TypeError, ValueError) as err:
            raise CheckpointMismatchError(source.path, f"unusable model configuration: {err}") from None
        encoder = Encoder(cfg)
        load_state_strict(encoder, _prefixed(obj["model"], "student."), source.path)
        return encoder.eval()
    return load_official_encoder(source.path, num_heads=source.num_heads, **model.shape)
