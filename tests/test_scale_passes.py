"""The count of records a series sends through Kim's encoder (``scale.passes``), the basis of paper-eval's cost."""

from __future__ import annotations

import torch

from ecgjepa_core.evaluation import segmentation
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.scale.passes import count_encoder_records


def test_records_are_counted_by_gradient_and_table_10_runs_in_process(monkeypatch):
    torch.manual_seed(0)
    enc = Encoder(ModelConfig(embed_dim=16, depth=1, num_heads=2, pred_embed_dim=8, pred_depth=1, pred_num_heads=2,
                              n_patches=10, patch_size=50))
    x = torch.randn(3, 8, 500)
    # Table 10's runs: each a fine-tuning pass over one record (a worker process would count for itself)
    monkeypatch.setattr(segmentation, "fit_and_score", lambda *job: enc(x[:1]).sum().backward())

    def build():
        with torch.no_grad():
            enc(x)
        enc(x[:2]).sum().backward()
        segmentation.run_all([("a", "fine-tuned", None), ("b", "fine-tuned", None)], None, None, None, workers=4)

    counts = count_encoder_records(build)
    # the unit is a full record of 400 tokens (8 leads x 50 patches); this encoder's records have 8 x 10
    assert counts == {"inference": 3 * 80 / 400, "training": (2 + 2) * 80 / 400, "probe_steps": 0,
                      "probe_inference": 0}
    assert segmentation.run_all.__name__ == "run_all"  # restored
