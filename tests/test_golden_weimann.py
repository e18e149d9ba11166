"""Weimann & Conrad's tiny checkpoints, loaded by our code, reproduce what their code computed.

The golden files (tests/golden/weimann) were made by their public code at kweimann/ECG-JEPA 504b4e5.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ecgjepa_core.checkpoint import load_weimann_classifier, load_weimann_encoder, load_weimann_jepa
from ecgjepa_core.evaluation.crops import crop_logits, crop_samples, strided_crops
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.models.weimann_masking import WeimannMaskCollator

TOL = 1e-5


@pytest.fixture(scope="module")
def weimann_dir(golden_dir):
    path = golden_dir / "weimann"
    if not (path / "weimann_tiny_reference.npz").is_file():
        pytest.fail(f"golden files of Weimann & Conrad's code not found in {path}")
    return path


@pytest.fixture(scope="module")
def reference(weimann_dir):
    return dict(np.load(weimann_dir / "weimann_tiny_reference.npz"))


@pytest.fixture(scope="module")
def x(reference):
    return torch.from_numpy(reference["input_12lead_500hz"])


def _close(ours: torch.Tensor, reference: dict, key: str) -> None:
    theirs = reference[key]
    assert tuple(ours.shape) == theirs.shape, key
    np.testing.assert_allclose(ours.detach().numpy(), theirs, atol=TOL, rtol=0, err_msg=key)


def test_pretraining_step_matches_theirs(weimann_dir, reference, x):
    jepa = load_weimann_jepa(weimann_dir / "weimann_tiny_pretrain.pt")
    keep, masked = (torch.from_numpy(reference[k]) for k in ("mask_encoder", "mask_predictor"))
    before = [p.clone() for p in jepa.target_encoder.parameters()]
    with torch.no_grad():
        z = jepa.encoder(x, keep)
        _close(jepa.target_encoder(x), reference, "target_tokens")
        _close(z, reference, "context_tokens")
        _close(jepa.predictor(z, keep, masked), reference, "predictor_out")
        loss = jepa.loss(x, keep, masked)
    assert abs(loss.item() - float(reference["loss"])) <= TOL
    assert all(torch.equal(a, b) for a, b in zip(before, jepa.target_encoder.parameters()))


@pytest.mark.parametrize("name", ["weimann_tiny_encoder.min.pt", "weimann_tiny_pretrain.pt"])
def test_encoder_loads_from_minified_and_full_checkpoints(weimann_dir, reference, x, name):
    with torch.no_grad():
        _close(load_weimann_encoder(weimann_dir / name)(x), reference, "target_tokens")


def test_crops_are_theirs(reference, x):
    _close(strided_crops(x, crop_samples(500), crop_samples(500, 1.25)), reference, "crops")


@pytest.mark.parametrize("head,prefix", [("probe", "linear"), ("finetune", "finetune")])
def test_classifier_logits_match_theirs(weimann_dir, reference, head, prefix):
    clf = load_weimann_classifier(weimann_dir / f"weimann_tiny_{head}.pt")
    per_crop = crop_logits(clf, torch.from_numpy(reference["crops"]))
    _close(per_crop, reference, f"{prefix}_crop_logits")
    _close(per_crop.mean(dim=1), reference, f"{prefix}_logits")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_collator_draws_their_masks_bit_for_bit(weimann_dir, reference, seed):
    cfg = WeimannConfig.from_authors(json.loads((weimann_dir / "weimann_tiny_config.json").read_text()))
    collate = WeimannMaskCollator.from_config(cfg, np.random.RandomState(seed))  # np.random.seed(s) seeds this stream
    _, keep, masked = collate([torch.zeros(12, 5000)] * 4)
    np.testing.assert_array_equal(keep.numpy(), reference[f"collator_seed{seed}_mask_encoder"])
    np.testing.assert_array_equal(masked.numpy(), reference[f"collator_seed{seed}_mask_predictor"])


def test_config_file_and_checkpoint_config_agree(weimann_dir):
    from_json = WeimannConfig.from_authors(json.loads((weimann_dir / "weimann_tiny_config.json").read_text()))
    stored = torch.load(weimann_dir / "weimann_tiny_pretrain.pt", weights_only=True)["config"]
    assert WeimannConfig.from_authors(stored) == from_json
    assert (from_json.dim, from_json.depth, from_json.num_registers, from_json.pred_dim) == (48, 2, 1, 24)
