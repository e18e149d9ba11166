"""Checkpoints: our format (config inside, atomic save) and the authors' released format.

Our format is a dict ``{"format": "ecgjepa/1", "kind": "encoder" | "jepa", "config": {...},
"state_dict": {...}, "extra": {...}}`` loadable with ``torch.load(weights_only=True)``.

The authors' files (docs/method_kim.md §8) are either ``{"encoder": state_dict, "epoch": int}`` (the
released student encoder) or a plain state dict of the whole model (``encoder.*``,
``target_encoder.*``, ``predictor.*``). Their parameter names are translated to ours by a fixed
table; any key or shape that does not fit is reported by name.
"""

from __future__ import annotations

import re
import shutil
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from ecgjepa_core.data.cache_folder import process_running
from ecgjepa_core.errors import UserFileError, require_file
from ecgjepa_core.files import atomic_write
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import ECGJEPA, Encoder
from ecgjepa_core.models.weimann import WeimannEncoder, WeimannJEPA
from ecgjepa_core.models.weimann_classifier import WeimannClassifier
from ecgjepa_core.models.weimann_config import WeimannConfig

FORMAT = "ecgjepa/1"

# Authors' name prefix -> ours, per module (longest prefixes first where they overlap).
_ENCODER_NAMES = (("W_P.", "patch_embed."), ("encoder_blocks.blocks.", "blocks."),
                  ("pos_embed", "pos_embed"), ("norm.", "norm."))
_PREDICTOR_NAMES = (("predictor_embed.", "embed."), ("predictor_blocks.blocks.", "blocks."),
                    ("predictor_norm.", "norm."), ("predictor_proj.", "proj."),
                    ("mask_token", "mask_token"), ("pos_embed", "pos_embed"))
_JEPA_MODULES = (("encoder.", "student.", _ENCODER_NAMES), ("target_encoder.", "teacher.", _ENCODER_NAMES),
                 ("predictor.", "predictor.", _PREDICTOR_NAMES))


class CorruptCheckpointError(UserFileError):
    """The file is no usable checkpoint: empty, truncated, damaged (a zip member fails its CRC), not a torch
    file, or holding NaN / infinite weights."""


class CheckpointMismatchError(UserFileError):
    """A checkpoint's keys or shapes do not fit the model built from the given configuration."""


def _rename(key: str, names: tuple[tuple[str, str], ...]) -> str | None:
    for theirs, ours in names:
        if key.startswith(theirs):
            return ours + key[len(theirs):]
    return None


def official_to_ours(state: dict[str, torch.Tensor], kind: str) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Translate an authors' state dict (``kind`` encoder or jepa); returns (ours, untranslatable keys)."""
    modules = (("", "", _ENCODER_NAMES),) if kind == "encoder" else _JEPA_MODULES
    ours, unknown = {}, []
    for key, value in state.items():
        for their_prefix, our_prefix, names in modules:
            if key.startswith(their_prefix):
                name = _rename(key[len(their_prefix):], names)
                if name is not None:
                    ours[our_prefix + name] = value
                    break
        else:
            unknown.append(key)
    return ours, unknown


def ours_to_official(state: dict[str, torch.Tensor], kind: str) -> dict[str, torch.Tensor]:
    """Inverse of :func:`official_to_ours`, to hand our weights to the authors' code."""
    modules = (("", "", _ENCODER_NAMES),) if kind == "encoder" else _JEPA_MODULES
    out = {}
    for key, value in state.items():
        for their_prefix, our_prefix, names in modules:
            if key.startswith(our_prefix):
                name = _rename(key[len(our_prefix):], tuple((o, t) for t, o in names))
                if name is not None:
                    out[their_prefix + name] = value
                    break
        else:
            raise KeyError(f"no official name for {key!r}")
    return out


def _short(keys: list[str], n: int = 8) -> str:
    return ", ".join(keys[:n]) + (f", … ({len(keys)} in all)" if len(keys) > n else "")


def load_state_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str | Path,
                      unknown: list[str] = ()) -> None:
    """Load ``state`` into ``module``; on any missing, unexpected or mis-shaped key raise naming them."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = list(unknown) + [k for k in state if k not in expected]
    shapes = [f"{k} {tuple(state[k].shape)} vs model {tuple(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = []
    if missing:
        problems.append(f"missing keys: {_short(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_short(unexpected)}")
    if shapes:
        problems.append(f"shape mismatches: {_short(shapes)}")
    if problems:
        raise CheckpointMismatchError(
            source, f"does not fit the model configuration ({'; '.join(problems)}). "
            "Check embed_dim/depth/num_heads/n_leads against the checkpoint.")
    if non_finite := [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]:
        raise CorruptCheckpointError(source, f"NaN or infinite weights in {_short(non_finite)}: a diverged run or "
                                             "a damaged file, not an encoder to evaluate")
    module.load_state_dict(state, strict=True)


def read_checkpoint_file(path: str | Path) -> Any:
    """``torch.load`` of ``path`` (weights only, on CPU), or a :class:`UserFileError` naming the file: missing
    or not a file (MissingFileError / UserFileError), or CorruptCheckpointError instead of the raw unpickling
    error (``PytorchStreamReader failed …``, EOFError …). A torch zip archive is checked against its own CRC-32
    first: torch itself would load a tensor whose bytes changed."""
    path = require_file(path, "checkpoint file")
    if damaged := damaged_zip_member(path):
        raise CorruptCheckpointError(path, damaged)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        size = path.stat().st_size
        first_line = (str(err).strip().splitlines() or [""])[0][:160]
        what = "empty file" if size == 0 else f"{size} bytes, truncated or not a torch checkpoint"
        raise CorruptCheckpointError(path, f"unreadable checkpoint ({what}): {type(err).__name__}: {first_line}") \
            from None


def damaged_zip_member(path: Path) -> str | None:
    """Why the zip archive ``path`` (torch's file format) is damaged, naming the member; None if it is intact or
    no zip archive (an older torch format, or a file too short to be one: torch's own error names those)."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as err:
        return f"damaged zip archive ({type(err).__name__}: {err})"
    if bad is not None:
        return (f"damaged: zip member {bad} fails its CRC-32 check (its bytes changed after torch wrote them); "
                "fetch the file again")
    return None


_read = read_checkpoint_file  # the loaders' short name


def _state_dict(obj: Any, path: str | Path, what: str) -> dict[str, torch.Tensor]:
    """``obj`` if it is a state dict (names → tensors), else CheckpointMismatchError naming the file."""
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        found = f"keys {_short(sorted(map(str, obj)), 4)}" if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointMismatchError(path, f"{what} is not a state dict of tensors (found {found})")
    return obj


def load_official_encoder(path: str | Path, embed_dim: int = 768, depth: int = 12, num_heads: int = 16,
                          n_leads: int = 8, **config: Any) -> Encoder:
    """The authors' student encoder (release dict ``{'encoder', 'epoch'}``, a plain encoder state dict,
    or a whole-model state dict) as our :class:`Encoder`, in eval mode with drop path 0."""
    obj = _read(path)
    state = obj["encoder"] if isinstance(obj, dict) and "encoder" in obj and isinstance(obj["encoder"], dict) else obj
    state = _state_dict(state, path, "the encoder")
    if any(k.startswith("encoder.") for k in state):
        state = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
    cfg = ModelConfig(embed_dim=embed_dim, depth=depth, num_heads=num_heads, n_leads=n_leads,
                      drop_path_rate=0.0, **config)
    encoder = Encoder(cfg)
    ours, unknown = official_to_ours(state, "encoder")
    load_state_strict(encoder, ours, path, unknown)
    return encoder.eval()


def load_official_jepa(path: str | Path, embed_dim: int = 768, depth: int = 12, num_heads: int = 16,
                       pred_embed_dim: int = 384, pred_depth: int = 6, pred_num_heads: int = 12,
                       n_leads: int = 8, **config: Any) -> ECGJEPA:
    """The authors' whole model (student, teacher, predictor) as our :class:`ECGJEPA`, eval mode, drop path 0."""
    state = _state_dict(_read(path), path, "the file")
    cfg = ModelConfig(embed_dim=embed_dim, depth=depth, num_heads=num_heads, pred_embed_dim=pred_embed_dim,
                      pred_depth=pred_depth, pred_num_heads=pred_num_heads, n_leads=n_leads,
                      drop_path_rate=0.0, **config)
    model = ECGJEPA(cfg)
    ours, unknown = official_to_ours(state, "jepa")
    load_state_strict(model, ours, path, unknown)
    return model.eval()


def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` through :func:`atomic_write`: never a half-written checkpoint; a full disk is an OSError
    naming ``path``."""
    return atomic_write(path, lambda f: torch.save(obj, f))


def atomic_copy(src: str | Path, dest: str | Path) -> Path:
    """A byte-identical copy of ``src`` at ``dest`` through :func:`atomic_write`."""
    def copy(f: BinaryIO) -> None:
        with open(src, "rb") as s:
            shutil.copyfileobj(s, f)
    return atomic_write(dest, copy)


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete ``.<name>.<pid>.<random>.tmp`` files of :func:`atomic_write` whose writer no longer runs."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        match = _TEMPORARY.match(tmp.name)
        if match and tmp.is_file() and not process_running(int(match["pid"])):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+\.tmp$")


def save_checkpoint(path: str | Path, model: Encoder | ECGJEPA, extra: dict[str, Any] | None = None) -> Path:
    """Write ``model`` with its configuration in our format, atomically."""
    kind = "jepa" if isinstance(model, ECGJEPA) else "encoder"
    return atomic_save({"format": FORMAT, "kind": kind, "config": model.cfg.to_dict(),
                        "state_dict": model.state_dict(), "extra": extra or {}}, path)


def load_checkpoint(path: str | Path, **overrides: Any) -> tuple[Encoder | ECGJEPA, dict[str, Any]]:
    """Rebuild the model stored by :func:`save_checkpoint`; returns (model, extra).

    ``overrides`` change configuration fields that do not affect the weights (e.g. ``attention``,
    ``drop_path_rate``).
    """
    obj = _read(path)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointMismatchError(
            path, f"not an ecgjepa checkpoint (format {obj.get('format') if isinstance(obj, dict) else type(obj)}); "
            "use load_official_encoder / load_official_jepa for the authors' files")
    if missing := [k for k in ("kind", "config", "state_dict") if k not in obj]:
        raise CheckpointMismatchError(path, f"ecgjepa checkpoint without {missing}; it cannot be rebuilt")
    if obj["kind"] not in ("jepa", "encoder"):
        raise CheckpointMismatchError(path, f"unknown kind {obj['kind']!r} (expected 'jepa' or 'encoder')")
    try:
        cfg = ModelConfig.from_dict({**obj["config"], **overrides})
    except (TypeError, ValueError) as err:
        raise CheckpointMismatchError(path, f"unusable model configuration: {err}") from None
    model = ECGJEPA(cfg) if obj["kind"] == "jepa" else Encoder(cfg)
    load_state_strict(model, _state_dict(obj["state_dict"], path, "state_dict"), path)
    return model, obj.get("extra", {})


# ---------------------------------------------------------------------------------------------------
# Weimann & Conrad's formats (kweimann/ECG-JEPA). Their module and parameter names are ours, so their
# state dicts load unchanged; the configuration is read from the file.
#   pretraining:  {'model': encoder.* + predictor.* + target_encoder.*, 'optimizer', 'config', 'step'}
#   minified:     {'model': target_encoder.* only, 'config'}
#   finetune.py:  {'model': encoder.* + attn_pool.* or fc.*, 'config', 'eval_config', ...}
# ---------------------------------------------------------------------------------------------------

def _read_weimann(path: str | Path, required: tuple[str, ...]) -> dict[str, Any]:
    obj = read_checkpoint_file(path)
    if not isinstance(obj, dict) or any(k not in obj for k in required):
        found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointMismatchError(path, f"not a Weimann & Conrad checkpoint (needs keys {list(required)}, "
                                            f"found {found})")
    return obj


def _weimann_config(obj: dict[str, Any], path: str | Path) -> WeimannConfig:
    try:
        return WeimannConfig.from_authors(obj["config"], source="its config")
    except ValueError as err:
        raise CheckpointMismatchError(path, str(err)) from None


def _with_prefix(state: dict[str, torch.Tensor], prefix: str, new_prefix: str = "") -> dict[str, torch.Tensor]:
    return {new_prefix + k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def load_weimann_jepa(path: str | Path) -> WeimannJEPA:
    """Their pretraining checkpoint -> ``WeimannJEPA`` (encoder, predictor, target encoder) in eval mode."""
    obj = _read_weimann(path, ("model", "config"))
    if "eval_config" in obj:
        raise CheckpointMismatchError(path, "a finetune.py checkpoint; use load_weimann_classifier")
    model = WeimannJEPA(_weimann_config(obj, path))
    load_state_strict(model, obj["model"], path)
    return model.eval()


def load_weimann_encoder(path: str | Path) -> WeimannEncoder:
    """Their minified or full pretraining checkpoint -> the target encoder, in eval mode."""
    obj = _read_weimann(path, ("model", "config"))
    if "eval_config" in obj:
        raise CheckpointMismatchError(path, f"a finetune.py checkpoint; use load_weimann_classifier(...).encoder")
    state = _with_prefix(obj["model"], "target_encoder.")
    if not state:
        raise CheckpointMismatchError(
            path, f"no target_encoder.* keys (found e.g. {_short(sorted(obj['model']), 4)})")
    encoder = WeimannEncoder(_weimann_config(obj, path))
    load_state_strict(encoder, state, path)
    return encoder.eval()


def load_weimann_classifier(path: str | Path) -> WeimannClassifier:
    """A finetune.py checkpoint -> ``WeimannClassifier`` in eval mode; ``clf(crops)`` gives logits.

    The head follows their eval config: ``attn_pooling`` -> attentive pooler (over register + patch
    tokens when ``use_register``), else the register token (``use_register``) or the token mean, into a
    Linear.
    """
    obj = _read_weimann(path, ("model", "config", "eval_config"))
    ev = obj["eval_config"]
    try:
        head = "attentive" if ev["attn_pooling"] else "register" if ev["use_register"] else "mean"
        clf = WeimannClassifier(_weimann_config(obj, path), int(ev["num_classes"]), head=head,
                                use_registers=bool(ev["use_register"]), frozen=bool(ev["frozen"]))
    except (KeyError, ValueError) as err:
        raise CheckpointMismatchError(path, f"unreadable eval_config ({err!r})") from err
    if ev.get("bias"):
        raise CheckpointMismatchError(path, "eval_config bias=True is not supported (their heads have no bias)")
    load_state_strict(clf, obj["model"], path)
    return clf.eval()


def save_weimann_encoder(path: str | Path, model: WeimannJEPA, extra: dict[str, Any] | None = None) -> Path:
    """The target encoder in their minified format (``{'model': target_encoder.*, 'config'}``, plus
    ``extra``), atomically; :func:`load_weimann_encoder` reads it back."""
    state = {f"target_encoder.{k}": v for k, v in model.target_encoder.state_dict().items()}
    return atomic_save({"model": state, "config": model.cfg.to_dict(), "extra": extra or {}}, path)

