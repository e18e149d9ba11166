"""Any profile field overridable by dotted key; any encoder file standing in for a study row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ecgjepa_core.checkpoint import load_official_encoder, save_checkpoint
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import ECGJEPA
from ecgjepa_core.paths import golden_dir
from ecgjepa_core.study.encoders import EncoderSpecError, load_encoder, parse_encoders
from ecgjepa_core.study.overrides import OverrideError, apply_overrides, overridable_keys, parse_overrides
from ecgjepa_core.study.profiles import get_profile
from ecgjepa_core.study.study import MB, RB, Study

OFFICIAL_MB = golden_dir() / "official_mb_tiny_encoder.pth"


def test_overrides_reach_nested_fields_with_their_types():
    p = apply_overrides(get_profile("smoke"), parse_overrides(
        '{"model.embed_dim": 64, "pretrain.lr_mb": 1, "evaluation.probe_seeds": [0, 5], '
        '"evaluation.ablation_finetune_on": ["paper split"], "ptbxl.path": "elsewhere", "data_root": "/d"}'))
    assert p.model.embed_dim == 64 and p.pretrain.lr_mb == 1.0 and isinstance(p.pretrain.lr_mb, float)
    assert p.evaluation.probe_seeds == (0, 5) and p.evaluation.ablation_finetune_on == ("paper split",)
    assert p.ptbxl.path == "elsewhere" and p.data_root == Path("/d")
    assert get_profile("smoke").model.embed_dim == 32  # the profile itself is untouched


def test_bad_overrides_are_refused_with_the_valid_keys():
    smoke = get_profile("smoke")
    with pytest.raises(OverrideError, match=r"unknown override key\(s\) \['model\.width'\] \(model\.width: did you mean model\.depth"):
        apply_overrides(smoke, {"model.width": 3})
    with pytest.raises(OverrideError, match="expected bool"):
        apply_overrides(smoke, {"model.cropa": "yes"})
    with pytest.raises(OverrideError, match="expected int"):
        apply_overrides(smoke, {"model.depth": 2.5})
    with pytest.raises(OverrideError, match="model.attention='flash' is not among the choices"):
        apply_overrides(smoke, {"model.attention": "flash"})
    assert "model.mask" not in overridable_keys(smoke)  # each variant sets its own mask


def test_an_override_changes_the_run_folder_and_attention_does_not():
    base = Study("smoke", progress=False)
    wider = Study("smoke", overrides={"model.embed_dim": 48}, progress=False)
    sdpa = Study("smoke", overrides='{"model.attention": "sdpa"}', progress=False)
    fp = "same-data"
    assert base.run_dir(MB, fp) != wider.run_dir(MB, fp)
    assert base.run_dir(MB, fp) == sdpa.run_dir(MB, fp)  # three exact implementations: no retraining
    assert wider.identity()["overrides"] == {"model.embed_dim": 48}
    assert "Overrides: model.embed_dim=48." in wider.profile.table_note


def test_encoder_spec_short_and_long_forms(tmp_path):
    with pytest.raises(EncoderSpecError, match=r"authors' encoder 64 wide, 2 blocks.*do not store the head count"):
        parse_encoders(f"mb={OFFICIAL_MB}")  # the paper's 16 heads are the 768-wide encoder's, not this file's
    ours = save_checkpoint(tmp_path / "ours.pt", ECGJEPA(ModelConfig(embed_dim=32, depth=1, num_heads=4,
                                                                     pred_embed_dim=16, pred_depth=1,
                                                                     pred_num_heads=2)).student)
    short = parse_encoders(f"mb={ours}")  # our files store their heads: the short form reads them
    long = parse_encoders(f'{{"mb": {{"path": "{OFFICIAL_MB}", "num_heads": 4}}}}')
    assert short["mb"].num_heads == 4 and long["mb"].num_heads == 4
    assert short["mb"].model_text == "encoder 32 wide, 1 blocks, 4 heads"
    assert long["mb"].model_text == "encoder 64 wide, 2 blocks, 4 heads" and len(long["mb"].sha256) == 64
    assert long["mb"].label == f"checkpoint official_mb_tiny_encoder.pth (sha256 {long['mb'].sha256[:12]})"
    for bad, message in ((f"xx={OFFICIAL_MB}", "unknown row 'xx'"), ("mb", "is not KEY=PATH"),
                         (f'{{"mb": {{"path": "{OFFICIAL_MB}", "heads": 4}}}}', "unknown option"),
                         (f"mb={tmp_path / 'none.pth'}", "file not found")):
        with pytest.raises(EncoderSpecError, match=message):
            parse_encoders(bad)


def test_authors_file_loads_with_shape_read_from_the_weights():
    enc = load_encoder(parse_encoders({"mb": {"path": str(OFFICIAL_MB), "num_heads": 4}})["mb"])
    ref = load_official_encoder(OFFICIAL_MB, embed_dim=64, depth=2, num_heads=4)
    x = torch.randn(2, 8, 2500, generator=torch.Generator().manual_seed(0))
    assert enc.cfg.embed_dim == 64 and enc.cfg.depth == 2 and enc.cfg.n_leads == 8
    torch.testing.assert_close(enc.representation(x), ref.representation(x), rtol=0, atol=0)


def test_our_checkpoint_loads_as_an_encoder_source(tmp_path):
    cfg = ModelConfig(embed_dim=32, depth=1, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2)
    torch.manual_seed(0)
    model = ECGJEPA(cfg)
    path = save_checkpoint(tmp_path / "ours.pt", model)
    enc = load_encoder(parse_encoders({"rb": str(path)})["rb"])
    x = torch.randn(1, 8, 2500)
    torch.testing.assert_close(enc.representation(x), model.student.eval().representation(x))


def test_a_file_replaces_the_main_row_but_not_the_ablations():
    study = Study("smoke", encoders={"mb": {"path": str(OFFICIAL_MB), "num_heads": 4}}, progress=False)
    assert study.given(MB) is not None and study.given(RB) is None
    assert study.encoder_label(MB).startswith("checkpoint official_mb_tiny_encoder.pth (sha256 ")
    assert study.given(MB, pretrained_here=True) is None
    assert study.identity()["encoders"]["mb"]["sha256"] == study.sources["mb"].sha256
    feats = study.encoder(MB).representation(torch.zeros(1, 8, 2500))
    assert feats.shape == (1, 64) and np.isfinite(feats.detach().numpy()).all()
