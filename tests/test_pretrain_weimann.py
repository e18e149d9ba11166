"""Weimann & Conrad's objective as the pretraining loop's option: 3 steps run, repeat exactly, export their format."""

from __future__ import annotations

import csv

import pytest
import torch

from ecgjepa_core.checkpoint import load_weimann_encoder
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import CHECKPOINT, LOG, pretrain
from ecgjepa_core.training.weimann_objective import WEIMANN_PRETRAIN, WeimannObjective, cosine_value

TINY = WeimannConfig(dim=16, depth=1, num_heads=2, pred_dim=8, pred_depth=1, pred_num_heads=2, channel_size=1000)
CFG = PretrainConfig(**WEIMANN_PRETRAIN, epochs=1, batch_size=4, warmup_epochs=0, seed=5, device="cpu",
                     progress=False)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _run(run_dir):
    x = torch.randn(12, 12, 1000, generator=torch.Generator().manual_seed(0))   # 12 / 4 -> 3 steps
    result = pretrain(x, TINY, CFG, run_dir)
    with (run_dir / LOG).open(newline="") as f:
        rows = [(r["step"], r["loss"], r["momentum"], r["lr"]) for r in csv.DictReader(f)]
    return result, rows, torch.load(run_dir / CHECKPOINT, weights_only=True)["model"]


def test_three_steps_run_and_repeat_exactly(tmp_path):
    a, rows_a, state_a = _run(tmp_path / "a")
    b, rows_b, state_b = _run(tmp_path / "b")
    assert a.steps == 3 and len(rows_a) == 3
    assert rows_a == rows_b
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert float(rows_a[0][2]) == pytest.approx(0.998)
    assert [float(r[3]) for r in rows_a] == pytest.approx([1e-3, (1e-3 + 1e-6) / 2, 1e-6])  # their cosine, 3 steps
    # The target encoder moved by EMA, the student by the optimiser: they now differ.
    key = "encoder.blocks.0.mlp.fc1.weight"
    assert not torch.equal(state_a[key], state_a["target_" + key])
    encoder = load_weimann_encoder(a.encoder)
    assert torch.equal(encoder.state_dict()["blocks.0.mlp.fc1.weight"], state_a["target_" + key])


def test_masks_depend_on_seed_and_step_only_and_decay_groups():
    objective = WeimannObjective(TINY, CFG)
    k1, m1 = objective.masks(2, 4, 1000)
    k2, m2 = WeimannObjective(TINY, CFG).masks(2, 4, 1000)
    assert torch.equal(k1, k2) and torch.equal(m1, m2) and k1.shape[1] + m1.shape[1] == 40
    assert not torch.equal(objective.masks(3, 4, 1000)[0], k1) or not torch.equal(objective.masks(3, 4, 1000)[1], m1)
    decayed, plain = objective.optimizer().param_groups
    assert decayed["weight_decay"] == 0.01 and plain["weight_decay"] == 0.0
    assert any(p is objective.model.encoder.registers for p in plain["params"])
    assert cosine_value(0, 10, 0.01, 0.1) == pytest.approx(0.01)
    assert cosine_value(9, 10, 0.01, 0.1) == pytest.approx(0.1)          # theirs ends one step early
    assert cosine_value(1, 10, 1e-3, 1e-6, warmup_steps=2, warmup_start=1e-6) == pytest.approx((1e-3 + 1e-6) / 2)
    assert cosine_value(2, 10, 1e-3, 1e-6, warmup_steps=2) == pytest.approx(1e-3)  # the cosine starts after warm-up
