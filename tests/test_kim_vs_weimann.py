"""Table 9 (Kim vs Weimann at equal compute): the Weimann variant of the study, its encoder files, the builder."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ecgjepa_core.checkpoint import load_weimann_encoder
from ecgjepa_core.models.weimann import WeimannEncoder
from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.report import claims
from ecgjepa_core.study import weimann_family
from ecgjepa_core.study.encoders import EncoderSpecError, load_weimann, parse_encoders
from ecgjepa_core.study.kim_vs_weimann import NAME
from ecgjepa_core.study.registry import pretrained_variants, publish, table_spec
from ecgjepa_core.study.study import RB_12_LEADS, WEIMANN, Study
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import encoder_file, pretrain
from ecgjepa_core.training.weimann_objective import WEIMANN_PRETRAIN

# Each family for one epoch, the attentive probe for 20 steps, one probe seed, two label sets: the whole
# table on the shipped sample, its caches and three pretraining runs included.
FAST = {"pretrain.epochs": 1, "evaluation.probe_seeds": [0], "evaluation.bootstrap": 50, "weimann.probe_steps": 20,
        "weimann.probe_eval_every": 10, "weimann.tasks": ["superdiagnostic", "ST-MEM"]}


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGJEPA_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("ECGJEPA_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_weimann_variant_has_its_own_key_config_and_run_folder(isolated):
    study = Study("smoke", isolated / "out", progress=False)
    assert WEIMANN.key == "weimann" and WEIMANN.leads == tuple(range(12))
    cfg = study.model_config(WEIMANN)
    plan = study.profile.weimann
    assert isinstance(cfg, WeimannConfig) and (cfg.dim, cfg.depth, cfg.num_heads) == (plan.dim, plan.depth,
                                                                                      plan.num_heads)
    opt = study.pretrain_config(WEIMANN)
    assert (opt.epochs, opt.batch_size) == (study.epochs, study.profile.pretrain.batch_mb)  # Kim mb's budget
    assert (opt.betas, opt.ema_start, opt.ema_end) == (WEIMANN_PRETRAIN["betas"], 0.998, 0.9995)
    assert study.run_dir(WEIMANN, "x").name.startswith("weimann-")
    assert study.run_dir(WEIMANN, "x") != study.run_dir(WEIMANN, "y")
    assert WEIMANN in pretrained_variants(study)
    assert "pretrained here: weimann" in study.encoder_label(WEIMANN)


def test_weimann_corpus_is_the_kim_corpus_upsampled(isolated):
    study = Study("smoke", isolated / "out", progress=False)
    kim, kim_counts = study.corpus(RB_12_LEADS)
    weimann, counts = study.corpus(WEIMANN)
    assert len(weimann) == len(kim) and counts.equals(kim_counts)
    x = weimann[3]
    assert x.shape == (12, 5000) and x.dtype == torch.float32
    # FFT upsampling keeps every second sample of a band-limited record (up to float rounding).
    np.testing.assert_allclose(x[:, ::2].numpy(), kim[3].numpy(), atol=2e-2)


def test_a_weimann_file_replaces_the_pretrained_row(isolated, golden_dir):
    path = golden_dir / "weimann" / "weimann_tiny_encoder.min.pt"
    study = Study("smoke", isolated / "out", encoders={"weimann": str(path)}, progress=False)
    assert study.given(WEIMANN) is not None and study.given(WEIMANN, pretrained_here=True) is None
    enc = study.encoder(WEIMANN)
    assert isinstance(enc, WeimannEncoder) and (enc.cfg.dim, enc.cfg.num_channels) == (48, 12)
    reference = load_weimann_encoder(path)
    assert all(torch.equal(a, b) for a, b in zip(enc.state_dict().values(), reference.state_dict().values()))
    label = study.encoder_label(WEIMANN)
    assert label.startswith("checkpoint weimann_tiny_encoder.min.pt (sha256 ") and "pretrained" not in label
    assert WEIMANN not in table_spec(NAME).variants(study)          # no pretraining for a given row
    assert not (isolated / "runs").exists()


def test_bad_weimann_file_is_named(isolated, golden_dir):
    with pytest.raises(EncoderSpecError, match="unknown row 'wiemann'.*weimann"):
        parse_encoders({"wiemann": str(golden_dir / "weimann" / "weimann_tiny_encoder.min.pt")})
    kim_file = golden_dir / "official_mb_tiny_encoder.pth"
    with pytest.raises(EncoderSpecError, match="official_mb_tiny_encoder.pth holds Kim's ECG-JEPA .*row rb or mb"):
        Study("smoke", isolated / "out", encoders={"weimann": str(kim_file)}, progress=False)  # refused when parsed


def test_our_loops_weimann_state_loads_as_its_target_encoder(tmp_path):
    cfg = WeimannConfig(dim=16, depth=1, num_heads=2, pred_dim=8, pred_depth=1, pred_num_heads=2)
    data = [torch.randn(12, 5000, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    pretrain(data, cfg, PretrainConfig(**WEIMANN_PRETRAIN, epochs=1, batch_size=4, warmup_epochs=0, device="cpu",
                                       progress=False), tmp_path)
    from_state = load_weimann(tmp_path / "checkpoint.pt")
    exported = load_weimann_encoder(tmp_path / encoder_file(1))
    assert all(torch.equal(a, b) for a, b in zip(from_state.state_dict().values(), exported.state_dict().values()))


def test_random_weimann_encoder_is_seeded():
    cfg = WeimannConfig(dim=16, depth=1, num_heads=2, pred_dim=8, pred_depth=1, pred_num_heads=2)
    a, b, c = (weimann_family.random_encoder(cfg, s) for s in (0, 0, 1))
    assert torch.equal(a.patch_embed.proj.weight, b.patch_embed.proj.weight)
    assert not torch.equal(a.patch_embed.proj.weight, c.patch_embed.proj.weight)


@pytest.mark.slow
def test_table9_on_the_smoke_profile(isolated):
    study = Study("smoke", isolated / "out", overrides=FAST, progress=False)
    result = publish(study, NAME)
    rows = result.rows
    methods = ["ECG-JEPA_mb", "ECG-JEPA_rb", "Random init (Kim)", "ECG-JEPA_mb (paper's recipe)",
               "ECG-JEPA_rb (paper's recipe)", "ECG-JEPA_rb (centred targets; not in the paper)", "Weimann ECG-JEPA",
               "Random init (Weimann)", "Weimann ECG-JEPA (paper's recipe)"]
    assert list(dict.fromkeys(rows["method"])) == methods
    assert set(rows["protocol"]) == {"mean-pool linear", "pooled-statistics linear", "attentive", "best readout"}
    assert set(rows["ablation"]) == {"superdiagnostic", "ST-MEM"} and set(rows["split"]) == {"standard split"}
    assert rows["encoder"][rows["method"] == "Weimann ECG-JEPA"].str.startswith("pretrained here: weimann").all()
    assert rows["ours"].between(0, 1).all()

    def paper(method, protocol, ablation, metric):
        row = rows[(rows.method == method) & (rows.protocol == protocol) & (rows.ablation == ablation)
                   & (rows.metric == metric)]
        assert len(row) == 1
        return row.paper.iloc[0]
    assert paper("ECG-JEPA_mb", "mean-pool linear", "superdiagnostic", "AUC") == 0.912             # Kim, Table 1
    assert paper("Weimann ECG-JEPA", "attentive", "ST-MEM", "AUC (one-vs-rest)") == 0.919          # Weimann ViT-XS
    assert math.isnan(paper("ECG-JEPA_mb", "attentive", "superdiagnostic", "AUC"))                # neither paper
    # Paired on the same test records: Kim mb and Weimann, attentive probe.
    kim = result.score_of(method="ECG-JEPA_mb", protocol="attentive", ablation="superdiagnostic")
    weimann = result.score_of(method="Weimann ECG-JEPA", protocol="attentive", ablation="superdiagnostic")
    assert np.array_equal(kim.rows, weimann.rows) and np.array_equal(kim.y, weimann.y)
    judged = claims.judge_all(study.output_dir, 50, 0, (NAME,))
    assert len(judged) == 6 and all(j.comparison is not None for j in judged), [j.reason for j in judged]
    assert (isolated / "runs" / "smoke").is_dir() and any(
        p.name.startswith("weimann-") for p in (isolated / "runs" / "smoke").iterdir())
