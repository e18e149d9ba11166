"""Our checkpoint format round-trips exactly; loaders explain mismatches by key."""

from __future__ import annotations

import pytest
import torch

from ecgjepa_core.checkpoint import (CheckpointMismatchError, atomic_copy, atomic_save, load_checkpoint,
                                     load_official_encoder, load_official_jepa, official_to_ours, ours_to_official,
                                     save_checkpoint)
from ecgjepa_core.models.config import MULTIBLOCK_MASK, ModelConfig
from ecgjepa_core.models.ecgjepa import ECGJEPA, Encoder

CFG = ModelConfig(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2,
                  n_leads=12, drop_path_rate=0.0, mask=MULTIBLOCK_MASK, attention="factorised")


def test_round_trip_is_exact(tmp_path):
    torch.manual_seed(0)
    model = ECGJEPA(CFG)
    path = save_checkpoint(tmp_path / "m.pt", model, extra={"epoch": 3})
    loaded, extra = load_checkpoint(path)
    assert isinstance(loaded, ECGJEPA) and extra == {"epoch": 3}
    assert loaded.cfg == CFG
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    x = torch.randn(1, 12, 2500)
    mask = torch.zeros(50, dtype=torch.bool)
    mask[:20] = True
    assert torch.equal(model.eval()(x, mask), loaded.eval()(x, mask))


def test_encoder_round_trip_and_override(tmp_path):
    enc = Encoder(CFG)
    loaded, _ = load_checkpoint(save_checkpoint(tmp_path / "e.pt", enc), attention="sdpa")
    assert isinstance(loaded, Encoder) and loaded.cfg.attention == "sdpa"


def test_atomic_save_leaves_no_partial_file(tmp_path):
    path = tmp_path / "ck.pt"
    atomic_save({"a": torch.ones(2)}, path)
    with pytest.raises(Exception):
        atomic_save({"a": lambda: None}, path)  # not picklable: the save fails midway
    assert torch.load(path, weights_only=True)["a"].sum() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt"]


def test_atomic_copy_is_byte_identical_and_leaves_no_temporary(tmp_path):
    src = tmp_path / "a.pt"
    atomic_save({"a": torch.arange(5)}, src)
    dest = atomic_copy(src, tmp_path / "out" / "b.pt")
    assert dest.read_bytes() == src.read_bytes() and [p.name for p in dest.parent.iterdir()] == ["b.pt"]
    with pytest.raises(FileNotFoundError):
        atomic_copy(tmp_path / "missing.pt", dest)
    assert dest.read_bytes() == src.read_bytes() and [p.name for p in dest.parent.iterdir()] == ["b.pt"]


def test_not_our_format_is_refused(tmp_path):
    torch.save({"encoder": {}}, tmp_path / "x.pt")
    with pytest.raises(CheckpointMismatchError, match="not an ecgjepa checkpoint"):
        load_checkpoint(tmp_path / "x.pt")


def test_official_names_round_trip():
    model = ECGJEPA(CFG)
    official = ours_to_official(model.state_dict(), "jepa")
    assert "encoder.W_P.weight" in official and "predictor.predictor_proj.bias" in official
    assert "target_encoder.encoder_blocks.blocks.1.attn.qkv.weight" in official
    back, unknown = official_to_ours(official, "jepa")
    assert not unknown and back.keys() == model.state_dict().keys()


def test_plain_official_state_dict_loads(tmp_path):
    torch.manual_seed(0)
    enc = Encoder(CFG.replace(n_leads=8))
    torch.save(ours_to_official(enc.state_dict(), "encoder"), tmp_path / "plain.pth")
    loaded = load_official_encoder(tmp_path / "plain.pth", embed_dim=32, depth=2, num_heads=4, attention="factorised")
    x = torch.randn(1, 8, 2500)
    assert torch.equal(loaded.representation(x), enc.eval().representation(x))


def test_mismatch_names_the_keys(golden_dir):
    path = golden_dir / "official_rb_tiny_encoder.pth"
    with pytest.raises(CheckpointMismatchError, match=r"missing keys: blocks\.2\."):
        load_official_encoder(path, embed_dim=64, depth=3, num_heads=4)
    with pytest.raises(CheckpointMismatchError, match=r"shape mismatches: .*patch_embed\.weight \(64, 50\) vs model \(32, 50\)"):
        load_official_encoder(path, embed_dim=32, depth=2, num_heads=4)
    with pytest.raises(CheckpointMismatchError, match=r"unexpected keys: predictor\.blocks\.1\."):
        load_official_jepa(golden_dir / "official_rb_tiny_full.pth", embed_dim=64, depth=2, num_heads=4,
                           pred_embed_dim=32, pred_depth=1, pred_num_heads=4)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_official_encoder(tmp_path / "nope.pth")
