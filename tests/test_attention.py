"""CroPA's rule and the equality of its three implementations."""

from __future__ import annotations

import pytest
import torch

from ecgjepa_core.models.attention import (Attention, cropa_mask, factorised_cropa_attention, reference_attention,
                                    sdpa_attention)
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import Encoder


def test_cropa_is_same_lead_or_same_time():
    allowed = cropa_mask(8, 50)
    assert allowed.shape == (400, 400)
    assert (allowed.sum(1) == 57).all()  # 50 same-lead + 8 same-time − itself
    assert torch.equal(allowed, allowed.T)
    lead_of, time_of = divmod(3 * 50 + 7, 50)
    row = allowed[3 * 50 + 7].view(8, 50).clone()  # the mask is cached: never modify it in place
    assert row[lead_of].all() and row[:, time_of].all()
    row[lead_of] = False
    row[:, time_of] = False
    assert not row.any()


def test_single_lead_cropa_is_full_attention():
    assert cropa_mask(1, 50).all()


@pytest.mark.parametrize("grid", [(8, 50), (12, 50), (8, 18), (1, 50), (2, 23), (12, 7), (3, 1)])
def test_implementations_equal_reference(grid):
    gen = torch.Generator().manual_seed(sum(grid))
    L, Q = grid
    q, k, v = (torch.randn(3, 4, L * Q, 16, generator=gen) for _ in range(3))
    ref = reference_attention(q, k, v, cropa_mask(L, Q))
    torch.testing.assert_close(sdpa_attention(q, k, v, cropa_mask(L, Q)), ref, atol=1e-5, rtol=0)
    torch.testing.assert_close(factorised_cropa_attention(q, k, v, grid), ref, atol=1e-5, rtol=0)


def test_reference_differs_from_full_attention():
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 40, 8, generator=gen) for _ in range(3))
    assert not torch.allclose(reference_attention(q, k, v, cropa_mask(4, 10)), reference_attention(q, k, v, None))


def test_attention_module_paths_agree():
    torch.manual_seed(0)
    modules = {impl: Attention(32, 4, impl) for impl in ("reference", "sdpa", "factorised")}
    for m in modules.values():
        m.load_state_dict(modules["reference"].state_dict())
    x = torch.randn(2, 6 * 9, 32)
    for grid in ((6, 9), None):
        ref = modules["reference"](x, grid)
        for impl in ("sdpa", "factorised"):
            torch.testing.assert_close(modules[impl](x, grid), ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("n_leads,leads", [(8, None), (8, [1]), (8, [1, 2]), (12, None), (12, [0, 5, 11])])
@pytest.mark.parametrize("n_masked", [0, 17])
def test_encoder_paths_agree(n_leads, leads, n_masked):
    torch.manual_seed(1)
    base = ModelConfig(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2,
                       n_leads=n_leads, drop_path_rate=0.0, attention="reference")
    ref = Encoder(base).eval()
    L = n_leads if leads is None else len(leads)
    x = torch.randn(2, L, 2500)
    visible = torch.ones(50, dtype=torch.bool)
    visible[torch.randperm(50)[:n_masked]] = False
    expected = ref(x, leads, visible)
    assert expected.shape == (2, L * int(visible.sum()), 32)
    for impl in ("sdpa", "factorised"):
        other = Encoder(base.replace(attention=impl)).eval()
        other.load_state_dict(ref.state_dict())
        torch.testing.assert_close(other(x, leads, visible), expected, atol=1e-5, rtol=0)
