"""Kim's pretraining loop, run step by step by their code (tests/golden/trajectory), replayed by ``pretrain()``.

Their loop (AdamW over their two groups, timm's cosine scheduler stepped before each forward, EMA after
each optimiser step; fp32, drop path 0) drew its data order and masks from the global RNG; both are
stored, and a :class:`ReplayPlan` hands them to our loop with their initial weights. Every step's loss,
learning rate and EMA momentum and the final student, teacher and predictor must match.

Measured on CPU (fp32): losses within 9e-8, learning rates and momenta equal, final weights within
1.2e-7 (student, teacher) and 6e-8 (predictor), apart from the teacher's positional table (4.2e-7:
see the test). The update final − init is matched relatively too, because an absolute 1e-5 barely
sees some deviations: the teacher moves by at most 7e-5 in 18 steps, so moving it before the
optimiser step changes it by 1.3e-5 only (its update by 18 %), and leaving the mask token out of
weight decay changes the predictor by 1.9e-5 (its update by 4e-5).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from ecgjepa_core.checkpoint import load_official_jepa
from ecgjepa_core.models.config import MaskConfig, ModelConfig
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import CHECKPOINT, LOG, pretrain
from ecgjepa_core.training.replay import ReplayPlan
from tests.test_pretrain import one_thread  # noqa: F401 (autouse fixture)

TOL = 1e-5  # losses and weights, absolute
SCHEDULE_RTOL = 1e-12  # lr and momentum are computed in float64 on both sides
# ‖Δours − Δtheirs‖ / ‖Δtheirs‖ for Δ = final − init over a part's trained weights. Measured: 2e-7
# (student, predictor); 1.4e-5 for the teacher, whose small update is a few float32 ulps of its
# LayerNorm weights (≈ 1).
UPDATE_RTOL = {"student": 1e-5, "predictor": 1e-5, "teacher": 1e-3}
PARTS = ("student", "teacher", "predictor")


@pytest.fixture(scope="module")
def trajectory_dir(golden_dir):
    path = golden_dir / "trajectory"
    if not (path / "trajectory_tiny_reference.npz").is_file():
        pytest.fail(f"golden trajectory of the authors' pretraining loop not found in {path}")
    return path


@pytest.fixture(scope="module")
def config(trajectory_dir):
    return json.loads((trajectory_dir / "trajectory_tiny_config.json").read_text())


@pytest.fixture(scope="module")
def reference(trajectory_dir):
    return dict(np.load(trajectory_dir / "trajectory_tiny_reference.npz"))


def _sizes(c: dict) -> dict:
    return dict(embed_dim=c["encoder_embed_dim"], depth=c["encoder_depth"], num_heads=c["encoder_num_heads"],
                pred_embed_dim=c["predictor_embed_dim"], pred_depth=c["predictor_depth"],
                pred_num_heads=c["predictor_num_heads"], n_leads=c["c"])


def _state(trajectory_dir, config, which: str) -> dict[str, torch.Tensor]:
    """The authors' whole-model state dict ``init`` or ``final``, in our names."""
    return load_official_jepa(trajectory_dir / f"trajectory_tiny_{which}.pth", **_sizes(config)).state_dict()


def _model_config(c: dict, attention: str = "factorised") -> ModelConfig:
    assert (c["p"], c["t"], c["precision"]) == (50, 50, "fp32")
    return ModelConfig(**_sizes(c), drop_path_rate=c["drop_path_rate"], attention=attention,
                       mask=MaskConfig(c["mask_type"], tuple(c["mask_scale"])))


def _pretrain_config(c: dict) -> PretrainConfig:
    assert c["warmup_lr_init"] == c["lr_min"]  # our warm-up starts at lr_min, as theirs here
    return PretrainConfig(epochs=c["epochs"], batch_size=c["batch_size"], lr=c["lr"], warmup_epochs=c["warmup_epochs"],
                          lr_min=c["lr_min"], weight_decay=c["weight_decay"], ema_start=c["ema"][0],
                          ema_end=c["ema"][1], seed=c["seed"], device="cpu", progress=False)


def _replay(run_dir, trajectory_dir, config, reference, attention: str = "factorised", **kwargs):
    plan = ReplayPlan(reference["orders"], reference["masks"], _state(trajectory_dir, config, "init"))
    x = torch.from_numpy(reference["input_8lead_250hz"])
    return pretrain(x, _model_config(config, attention), _pretrain_config(config), run_dir, plan=plan, **kwargs)


def _log(run_dir) -> dict[str, np.ndarray]:
    with (run_dir / LOG).open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in ("step", "loss", "lr", "momentum")}


def _model(run_dir) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / CHECKPOINT, weights_only=True)["model"]


@pytest.mark.parametrize("attention", ["reference", "sdpa", "factorised"])
def test_replay_matches_the_authors_loop(tmp_path, trajectory_dir, config, reference, attention):
    result = _replay(tmp_path, trajectory_dir, config, reference, attention)
    assert result.steps == config["epochs"] * config["iterations_per_epoch"] == len(reference["loss"])
    log = _log(tmp_path)
    assert log["step"].tolist() == list(range(len(reference["loss"])))
    np.testing.assert_allclose(log["loss"], reference["loss"], atol=TOL, rtol=0, err_msg="loss")
    for key in ("lr", "momentum"):
        np.testing.assert_allclose(log[key], reference[key], rtol=SCHEDULE_RTOL, atol=0, err_msg=key)

    ours = _model(tmp_path)
    init, theirs = _state(trajectory_dir, config, "init"), _state(trajectory_dir, config, "final")
    assert ours.keys() == theirs.keys()
    for key in theirs:
        torch.testing.assert_close(ours[key], theirs[key], atol=TOL, rtol=0, msg=lambda m: f"{key}: {m}")
    # Their EMA also runs over the teacher's sin-cos table (a parameter without gradient in their code):
    # m·p + (1 − m)·p moves it by float32 rounding alone. Ours is a fixed buffer (docs/method_kim.md §7).
    table = "teacher.pos_embed"
    assert torch.equal(ours[table], init[table]) and (theirs[table] - init[table]).abs().max() < 1e-6
    for part in PARTS:
        keys = [k for k in theirs if k.startswith(part + ".") and not k.endswith("pos_embed")]
        delta_theirs = torch.cat([(theirs[k] - init[k]).flatten() for k in keys])
        delta_ours = torch.cat([(ours[k] - init[k]).flatten() for k in keys])
        assert delta_theirs.abs().max() > 1e-5  # training moved it, so the comparison can fail
        rel = ((delta_ours - delta_theirs).norm() / delta_theirs.norm()).item()
        assert rel <= UPDATE_RTOL[part], f"{part}: update differs by {rel:.2e} of its size"


def test_resumed_replay_equals_the_straight_one(tmp_path, trajectory_dir, config, reference):
    """The plan's orders are indexed by epoch and its masks by step, so a resumed replay repeats them."""
    _replay(tmp_path / "straight", trajectory_dir, config, reference)
    first = _replay(tmp_path / "resumed", trajectory_dir, config, reference, max_epochs=2)
    assert first.steps == 2 * config["iterations_per_epoch"]
    second = _replay(tmp_path / "resumed", trajectory_dir, config, reference)
    assert second.resumed_from_epoch == 2
    a, b = _model(tmp_path / "straight"), _model(tmp_path / "resumed")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert np.array_equal(_log(tmp_path / "straight")["loss"], _log(tmp_path / "resumed")["loss"])


def test_resume_refuses_another_plan(tmp_path, trajectory_dir, config, reference):
    _replay(tmp_path, trajectory_dir, config, reference, max_epochs=1)
    other = dict(reference, masks=np.roll(reference["masks"], 1, axis=0))
    with pytest.raises(ValueError, match="replay plan"):
        _replay(tmp_path, trajectory_dir, config, other)
    with pytest.raises(ValueError, match="replay plan"):  # nor a run without one
        pretrain(torch.from_numpy(reference["input_8lead_250hz"]), _model_config(config),
                 _pretrain_config(config), tmp_path)
