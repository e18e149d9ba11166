"""Bad checkpoint files: loaders name the file and the problem; a damaged latest pretraining
checkpoint falls back to the previous one; leftovers of killed saves are removed; files are 0600
(18 cases).

| case | behaviour |
| --- | --- |
| zero-byte file | CorruptCheckpointError "empty file", naming it (was bare ``EOFError``) |
| file cut in half | CorruptCheckpointError (was ``PytorchStreamReader failed …``) |
| random bytes | CorruptCheckpointError (was e.g. ``KeyError: 101``) |
| a torch file holding a list | CheckpointMismatchError "not an ecgjepa checkpoint" |
| our format without ``config`` | CheckpointMismatchError naming the missing key |
| ``config`` with an unknown field | CheckpointMismatchError "unusable model configuration" |
| ``state_dict`` holding a non-tensor | CheckpointMismatchError "not a state dict of tensors" |
| unknown ``kind`` | CheckpointMismatchError |
| authors' encoder loader on an empty file | CorruptCheckpointError |
| authors' ``{'encoder': …}`` of non-tensors | CheckpointMismatchError |
| authors' whole-model loader on a list | CheckpointMismatchError |
| Weimann & Conrad's loader on a truncated file | CorruptCheckpointError |
| latest pretraining checkpoint damaged | resumes from the previous one (warning), ends bit-identical to an uninterrupted run |
| latest and previous both damaged | CorruptCheckpointError naming both |
| latest lacks keys (written by something else) | falls back to the previous one |
| latest missing, previous present (killed between the two renames) | resumes from the previous one |
| ``.checkpoint.pt.<pid>.<x>.tmp`` of a killed save | removed at the next start; a running writer's is kept |
| umask 000 | checkpoints still mode 0600 |
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ecgjepa_core.checkpoint import (CheckpointMismatchError, CorruptCheckpointError, load_checkpoint,
                                     load_official_encoder, load_official_jepa, load_weimann_encoder,
                                     remove_stale_temporaries, save_checkpoint)
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.training.pretrain import CHECKPOINT, PREVIOUS, pretrain

from ..test_pretrain import CFG, TINY, _assert_same_tensors, _dataset, one_thread  # noqa: F401

SMALL = TINY.replace(drop_path_rate=0.0)


@pytest.fixture
def good(tmp_path) -> Path:
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / "good.pt", Encoder(SMALL))


def _raises(error, call, path: Path, problem: str) -> None:
    with pytest.raises(error) as info:
        call(path)
    message = str(info.value)
    assert str(path) in message and problem in message and "\n" not in message, message


# --- 65-76: loaders -----------------------------------------------------------------------------

def test_zero_byte_checkpoint(tmp_path):
    path = tmp_path / "empty.pt"
    path.touch()
    _raises(CorruptCheckpointError, load_checkpoint, path, "unreadable checkpoint (empty file)")


def test_truncated_checkpoint(good):
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    _raises(CorruptCheckpointError, load_checkpoint, good, "truncated or not a torch checkpoint")


def test_random_bytes_checkpoint(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(os.urandom(4096))
    _raises(CorruptCheckpointError, load_checkpoint, path, "unreadable checkpoint")


def test_torch_file_of_another_kind(tmp_path):
    torch.save([1, 2, 3], tmp_path / "list.pt")
    _raises(CheckpointMismatchError, load_checkpoint, tmp_path / "list.pt", "not an ecgjepa checkpoint")


def _edited(good: Path, **changes) -> Path:
    obj = torch.load(good, weights_only=True)
    for key, value in changes.items():
        if value is None:
            del obj[key]
        else:
            obj[key] = value
    torch.save(obj, good)
    return good


def test_checkpoint_without_config(good):
    _raises(CheckpointMismatchError, load_checkpoint, _edited(good, config=None), "without ['config']")


def test_checkpoint_with_unknown_config_field(good):
    config = torch.load(good, weights_only=True)["config"] | {"wings": 2}
    _raises(CheckpointMismatchError, load_checkpoint, _edited(good, config=config), "unusable model configuration")


def test_checkpoint_state_dict_with_a_non_tensor(good):
    state = torch.load(good, weights_only=True)["state_dict"] | {"norm.weight": 1.0}
    _raises(CheckpointMismatchError, load_checkpoint, _edited(good, state_dict=state), "not a state dict of tensors")


def test_checkpoint_of_unknown_kind(good):
    _raises(CheckpointMismatchError, load_checkpoint, _edited(good, kind="decoder"), "unknown kind 'decoder'")


def test_official_encoder_loader_on_an_empty_file(tmp_path):
    path = tmp_path / "multiblock_epoch100.pth"
    path.touch()
    _raises(CorruptCheckpointError, load_official_encoder, path, "empty file")


def test_official_encoder_of_non_tensors(tmp_path):
    path = tmp_path / "enc.pth"
    torch.save({"encoder": {"W_P.weight": [1.0]}, "epoch": 100}, path)
    _raises(CheckpointMismatchError, load_official_encoder, path, "the encoder is not a state dict of tensors")


def test_official_jepa_loader_on_a_list(tmp_path):
    path = tmp_path / "full.pth"
    torch.save([torch.zeros(1)], path)
    _raises(CheckpointMismatchError, load_official_jepa, path, "the file is not a state dict of tensors (found list)")


def test_weimann_loader_on_a_truncated_file(good):
    good.write_bytes(good.read_bytes()[:1000])
    _raises(CorruptCheckpointError, load_weimann_encoder, good, "unreadable checkpoint")


# --- 77-80: resuming ----------------------------------------------------------------------------

EVERY = replace(CFG, save_every=1)


def _interrupted(run_dir: Path) -> None:
    """Two epochs done: checkpoint.pt after epoch 2, checkpoint.previous.pt after epoch 1."""
    pretrain(_dataset(), TINY, EVERY, run_dir, max_epochs=2)
    assert torch.load(run_dir / PREVIOUS, weights_only=True)["epoch"] == 1


def test_damaged_latest_checkpoint_falls_back_to_the_previous(tmp_path):
    straight = pretrain(_dataset(), TINY, EVERY, tmp_path / "straight")
    run = tmp_path / "resumed"
    _interrupted(run)
    (run / CHECKPOINT).write_bytes((run / CHECKPOINT).read_bytes()[:5000])
    with pytest.warns(UserWarning, match=rf"{run / CHECKPOINT}: unreadable checkpoint.*resuming from .*epoch 1"):
        result = pretrain(_dataset(), TINY, EVERY, run)
    assert result.resumed_from_epoch == 1 and result.final_loss == straight.final_loss
    assert (run / "checkpoint.pt.damaged").stat().st_size == 5000
    a, b = (torch.load(d / CHECKPOINT, weights_only=True) for d in (tmp_path / "straight", run))
    _assert_same_tensors(a["model"], b["model"])


def test_both_checkpoints_damaged(tmp_path):
    _interrupted(tmp_path)
    for name in (CHECKPOINT, PREVIOUS):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(CorruptCheckpointError) as info:
        pretrain(_dataset(), TINY, EVERY, tmp_path)
    assert str(tmp_path / CHECKPOINT) in str(info.value) and str(tmp_path / PREVIOUS) in str(info.value)


def test_incomplete_latest_checkpoint_falls_back(tmp_path):
    _interrupted(tmp_path)
    state = torch.load(tmp_path / CHECKPOINT, weights_only=True)
    del state["optimizer"]
    torch.save(state, tmp_path / CHECKPOINT)
    with pytest.warns(UserWarning, match=r"incomplete pretraining checkpoint \(lacks \['optimizer'\]\)"):
        assert pretrain(_dataset(), TINY, EVERY, tmp_path).resumed_from_epoch == 1


def test_missing_latest_with_previous_present(tmp_path):
    _interrupted(tmp_path)
    (tmp_path / CHECKPOINT).unlink()
    with pytest.warns(UserWarning, match="checkpoint.pt: missing; resuming from"):
        assert pretrain(_dataset(), TINY, EVERY, tmp_path).resumed_from_epoch == 1


# --- 81-82: leftovers and permissions -----------------------------------------------------------

def test_temporaries_of_killed_saves_are_removed(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    killed = tmp_path / f".{CHECKPOINT}.{process.pid}.abc123.tmp"
    running = tmp_path / f".{CHECKPOINT}.{os.getpid()}.def456.tmp"
    mine = tmp_path / ".notes.tmp"  # not a name atomic_save writes
    for path in (killed, running, mine):
        path.write_bytes(b"partial")
    assert remove_stale_temporaries(tmp_path) == [killed]
    assert running.exists() and mine.exists() and not killed.exists()
    running.unlink()
    two = replace(CFG, epochs=2, save_every=1)
    pretrain(_dataset(), TINY, two, tmp_path / "run", max_epochs=1)  # a run killed after epoch 1 ...
    (tmp_path / "run" / killed.name).write_bytes(b"partial")  # ... while saving
    assert pretrain(_dataset(), TINY, two, tmp_path / "run").resumed_from_epoch == 1
    assert not (tmp_path / "run" / killed.name).exists()


def test_checkpoints_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        torch.manual_seed(0)
        path = save_checkpoint(tmp_path / "enc.pt", Encoder(SMALL))
        pretrain(_dataset(), TINY, replace(CFG, epochs=2, save_every=1), tmp_path / "run")
    finally:
        os.umask(old)
    for p in (path, tmp_path / "run" / CHECKPOINT, tmp_path / "run" / PREVIOUS, tmp_path / "run" / "encoder_epoch002.pt"):
        assert p.stat().st_mode & 0o777 == 0o600, p
