"""Pretraining loop: optimiser groups, schedules in the log, determinism, exact resume, exports."""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest
import torch

from ecgjepa_core.checkpoint import load_checkpoint
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import ECGJEPA
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import CHECKPOINT, LOG, adamw_param_groups, encoder_file, pretrain
from ecgjepa_core.training.schedules import PretrainSchedule

# drop path > 0 so that resuming must restore the global torch RNG exactly.
TINY = ModelConfig(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2,
                   drop_path_rate=0.1)
CFG = PretrainConfig(epochs=3, batch_size=8, lr=1e-3, warmup_epochs=1, save_every=2, seed=3,
                     device="cpu", progress=False)
N = 20  # 20 / 8: the last partial batch (4 samples) is kept -> 3 iterations per epoch


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from threads; one avoids OpenMP stalls on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _dataset(with_labels: bool = True) -> torch.utils.data.Dataset:
    x = torch.randn(N, 8, TINY.n_samples, generator=torch.Generator().manual_seed(0))
    return torch.utils.data.TensorDataset(x, torch.zeros(N)) if with_labels else x


def _log_rows(run_dir) -> list[dict[str, str]]:
    with (run_dir / LOG).open(newline="") as f:
        return list(csv.DictReader(f))


def _numbers(rows):
    """Everything logged except the wall-clock throughput."""
    return [(r["step"], r["epoch"], r["loss"], r["lr"], r["momentum"]) for r in rows]


def _state(run_dir) -> dict:
    return torch.load(run_dir / CHECKPOINT, weights_only=True)


def _assert_same_tensors(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_param_groups_follow_spec():
    model = ECGJEPA(TINY)
    decay, no_decay = adamw_param_groups(model, 0.05)
    ids = lambda group: {id(p) for p in group["params"]}
    names = {id(p): n for n, p in model.named_parameters()}
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert id(model.predictor.mask_token) in ids(decay)
    assert id(model.student.patch_embed.weight) in ids(decay)
    assert all("bias" in names[i] or "norm" in names[i] for i in ids(no_decay))
    trainable = {id(p) for m in (model.student, model.predictor) for p in m.parameters()}
    assert ids(decay) | ids(no_decay) == trainable and not ids(decay) & ids(no_decay)
    assert not trainable & {id(p) for p in model.teacher.parameters()}


def test_run_logs_schedule_and_writes_files(tmp_path):
    result = pretrain(_dataset(with_labels=False), TINY, CFG, tmp_path)
    rows = _log_rows(tmp_path)
    schedule = PretrainSchedule(3, CFG.epochs, CFG.lr, CFG.warmup_epochs)
    assert [int(r["step"]) for r in rows] == list(range(9)) and result.steps == 9
    assert [int(r["epoch"]) for r in rows] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [float(r["lr"]) for r in rows] == [schedule.lr(t) for t in range(9)]
    assert [float(r["momentum"]) for r in rows] == [schedule.momentum(t) for t in range(9)]
    assert result.final_loss == float(rows[-1]["loss"]) and 0 < result.final_loss < 10
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CHECKPOINT, "checkpoint.previous.pt",
                                                                 encoder_file(2), encoder_file(3), LOG])

    encoder, extra = load_checkpoint(result.encoder)
    _assert_same_tensors(encoder.state_dict(), {k[len("student."):]: v for k, v in _state(tmp_path)["model"].items()
                                                if k.startswith("student.")})
    assert extra["epoch"] == 3 and extra["step"] == 9


def test_teacher_is_ema_of_student_after_each_step(tmp_path):
    cfg = replace(CFG, epochs=1)
    torch.manual_seed(cfg.seed)
    initial = ECGJEPA(TINY).state_dict()
    pretrain(_dataset(), TINY, cfg, tmp_path)
    final = _state(tmp_path)["model"]
    # Teacher moved, but by far less than the student (momentum ≥ 0.996).
    key = "blocks.0.mlp.fc1.weight"
    student_move = (final["student." + key] - initial["student." + key]).abs().max()
    teacher_move = (final["teacher." + key] - initial["teacher." + key]).abs().max()
    assert 0 < teacher_move < 0.05 * student_move


def test_same_run_twice_is_identical(tmp_path):
    pretrain(_dataset(), TINY, CFG, tmp_path / "a")
    pretrain(_dataset(), TINY, CFG, tmp_path / "b")
    assert _numbers(_log_rows(tmp_path / "a")) == _numbers(_log_rows(tmp_path / "b"))
    _assert_same_tensors(_state(tmp_path / "a")["model"], _state(tmp_path / "b")["model"])


def test_losses_read_back_in_windows_log_the_same_rows(tmp_path, monkeypatch):
    """On a GPU the losses of 50 steps are read at once; the log must not depend on the window."""
    import ecgjepa_core.training.pretrain as P

    every = pretrain(_dataset(), TINY, CFG, tmp_path / "every")
    monkeypatch.setattr(P, "loss_window", lambda device: 2)  # 3 steps per epoch: a full window, then the rest
    windowed = pretrain(_dataset(), TINY, CFG, tmp_path / "windowed")
    assert windowed.final_loss == every.final_loss
    assert _numbers(_log_rows(tmp_path / "every")) == _numbers(_log_rows(tmp_path / "windowed"))
    assert [r["step"] for r in _log_rows(tmp_path / "windowed")] == [str(i) for i in range(every.steps)]


def test_resume_is_bit_identical_to_uninterrupted(tmp_path):
    straight = pretrain(_dataset(), TINY, CFG, tmp_path / "straight")

    first = pretrain(_dataset(), TINY, CFG, tmp_path / "resumed", max_epochs=1)
    assert (first.epochs, first.steps) == (1, 3)
    with (tmp_path / "resumed" / LOG).open("a") as f:  # rows an interrupted epoch left behind
        f.write("3,1,9.9,0.1,0.9,1.0\n")
    second = pretrain(_dataset(), TINY, CFG, tmp_path / "resumed")
    assert second.resumed_from_epoch == 1 and second.steps == straight.steps
    assert second.final_loss == straight.final_loss

    a, b = _state(tmp_path / "straight"), _state(tmp_path / "resumed")
    _assert_same_tensors(a["model"], b["model"])
    for pa, pb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        _assert_same_tensors(pa, pb)
    assert torch.equal(a["rng"][0]["torch"], b["rng"][0]["torch"])
    assert _numbers(_log_rows(tmp_path / "straight")) == _numbers(_log_rows(tmp_path / "resumed"))


def test_resume_refuses_other_settings(tmp_path):
    pretrain(_dataset(), TINY, replace(CFG, epochs=1), tmp_path)
    with pytest.raises(ValueError, match="lr"):
        pretrain(_dataset(), TINY, replace(CFG, epochs=1, lr=2e-3), tmp_path)
    with pytest.raises(ValueError, match="model configuration"):
        pretrain(_dataset(), TINY.replace(depth=1), replace(CFG, epochs=1), tmp_path)
    # Settings that change no number may differ.
    pretrain(_dataset(), TINY, replace(CFG, epochs=1, save_every=5, progress=True), tmp_path)


def test_fp16_needs_cuda_and_bf16_runs_on_cpu(tmp_path):
    with pytest.raises(ValueError, match="CUDA"):
        pretrain(_dataset(), TINY, replace(CFG, precision="fp16"), tmp_path / "fp16")
    result = pretrain(_dataset(), TINY, replace(CFG, epochs=1, precision="bf16"), tmp_path / "bf16")
    assert 0 < result.final_loss < 10


def test_invalid_config_raises():
    with pytest.raises(ValueError):
        PretrainConfig(precision="fp8")
    with pytest.raises(ValueError):
        PretrainConfig(epochs=0)


def test_loader_workers_change_nothing(tmp_path):
    """DataLoader workers (on a GPU machine they load the next batches while the GPU computes) give the run of
    the in-process loader step for step: the same records, and the same draws from the global RNG."""
    serial = pretrain(_dataset(), TINY, CFG, tmp_path / "serial")
    workers = pretrain(_dataset(), TINY, replace(CFG, num_workers=2), tmp_path / "workers")
    assert workers.final_loss == serial.final_loss
    assert _numbers(_log_rows(tmp_path / "serial")) == _numbers(_log_rows(tmp_path / "workers"))
    _assert_same_tensors(_state(tmp_path / "serial")["model"], _state(tmp_path / "workers")["model"])
