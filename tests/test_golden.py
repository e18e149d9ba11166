"""Our model loaded from the authors' tiny checkpoints reproduces their outputs (tests/golden).

``ECGJEPA_TEST_DEVICE=cuda`` runs the model comparisons on a GPU (``python -m ecgjepa_core.gpu_check``);
the default is the CPU.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from ecgjepa_core.checkpoint import load_official_encoder, load_official_jepa
from ecgjepa_core.models.positional import sincos_2d

TOL = 1e-5
IMPLS = ("reference", "sdpa", "factorised")
DEVICE = torch.device(os.environ.get("ECGJEPA_TEST_DEVICE", "cpu"))


@pytest.fixture(scope="module")
def reference(golden_dir):
    return dict(np.load(golden_dir / "official_tiny_reference.npz"))


@pytest.fixture(scope="module")
def tiny(golden_dir):
    cfg = json.loads((golden_dir / "official_tiny_config.json").read_text())["rb"]
    return dict(embed_dim=cfg["encoder_embed_dim"], depth=cfg["encoder_depth"], num_heads=cfg["encoder_num_heads"],
                n_leads=cfg["c"])


def _jepa(golden_dir, kind, tiny, impl):
    return load_official_jepa(golden_dir / f"official_{kind}_tiny_full.pth", **tiny, pred_embed_dim=32,
                              pred_depth=2, pred_num_heads=4, attention=impl)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", ["rb", "mb"])
def test_training_step_matches_authors(golden_dir, reference, tiny, kind, impl):
    jepa = _jepa(golden_dir, kind, tiny, impl).to(DEVICE)
    x = torch.from_numpy(reference["input_8lead_250hz"]).to(DEVICE)
    mask = torch.from_numpy(reference[f"{kind}_mask"])
    with torch.no_grad():
        out = jepa.step(x, mask)
        loss = jepa(x, mask=mask)
    for name, ours in (("teacher_tokens", out.teacher_tokens), ("context_tokens", out.context_tokens),
                       ("predictor_out", out.predictor_out)):
        theirs = reference[f"{kind}_{name}"]
        assert ours.shape == theirs.shape, name
        np.testing.assert_allclose(ours.cpu().numpy(), theirs, atol=TOL, rtol=0, err_msg=name)
    assert abs(loss.item() - float(reference[f"{kind}_loss"])) <= TOL


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", ["rb", "mb"])
@pytest.mark.parametrize("leads,key", [(None, "repr_8lead"), ([1], "repr_leads_1"), ([1, 2], "repr_leads_1_2")])
def test_representation_matches_authors(golden_dir, reference, tiny, kind, impl, leads, key):
    enc = load_official_encoder(golden_dir / f"official_{kind}_tiny_encoder.pth", **tiny, attention=impl).to(DEVICE)
    x = torch.from_numpy(reference["input_8lead_250hz"]).to(DEVICE)
    if leads is not None:
        x = x[:, leads]
    with torch.no_grad():
        z = enc.representation(x, leads=leads)
    np.testing.assert_allclose(z.cpu().numpy(), reference[f"{kind}_{key}"], atol=TOL, rtol=0)


def test_positional_tables_equal_the_authors(golden_dir):
    state = torch.load(golden_dir / "official_rb_tiny_full.pth", weights_only=True)
    torch.testing.assert_close(sincos_2d(64, 8, 50), state["encoder.pos_embed"], atol=0, rtol=0)
    torch.testing.assert_close(sincos_2d(32, 1, 50), state["predictor.pos_embed"], atol=0, rtol=0)


def test_release_format_and_whole_model_give_the_same_student(golden_dir, reference, tiny):
    x = torch.from_numpy(reference["input_8lead_250hz"])
    from_release = load_official_encoder(golden_dir / "official_mb_tiny_encoder.pth", **tiny)
    from_full = load_official_encoder(golden_dir / "official_mb_tiny_full.pth", **tiny)
    with torch.no_grad():
        torch.testing.assert_close(from_release.representation(x), from_full.representation(x), atol=0, rtol=0)


def test_golden_masks_follow_the_authors_rules(reference):
    assert int(reference["rb_mask"].sum()) in range(30, 35)
    assert not reference["mb_mask"][-1]
