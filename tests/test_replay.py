"""Replay plans: the given order reaches the batches (also split over ranks), bad plans are named."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from ecgjepa_core.models.weimann_config import WeimannConfig
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import pretrain
from ecgjepa_core.training.replay import PlannedSampler, ReplayPlan

ORDERS = torch.tensor([[4, 0, 3, 1, 2], [2, 1, 0, 4, 3]])
MASKS = torch.zeros(6, 50, dtype=torch.bool)
MASKS[:, :30] = True


def _batches(world: int, rank: int, epoch: int, batch: int) -> list[list[int]]:
    sampler = PlannedSampler(range(5), ORDERS, world, rank)
    sampler.set_epoch(epoch)
    return [b.tolist() for b in DataLoader(range(5), batch_size=batch // world, sampler=sampler)]


def test_one_process_batches_follow_the_order():
    assert _batches(1, 0, 0, 2) == [[4, 0], [3, 1], [2]]
    assert _batches(1, 0, 1, 2) == [[2, 1], [0, 4], [3]]


def test_ranks_share_each_batch_as_the_distributed_sampler():
    """Rank r takes order[r::2], padded with the first index: the ranks' k-th batches together are batch k."""
    shares = [_batches(2, rank, 1, 4) for rank in (0, 1)]
    assert shares == [[[2, 0], [3]], [[1, 4], [2]]]
    first = sorted(shares[0][0] + shares[1][0])
    assert first == sorted(ORDERS[1, :4].tolist())


@pytest.mark.parametrize("orders,masks,match", [
    (ORDERS[:1], MASKS, "epoch orders"),
    (ORDERS + 1, MASKS, "indices"),
    (ORDERS, MASKS[:5], r"masks \(5, 50\)"),
    (ORDERS, MASKS[:, :40], r"masks \(6, 40\)"),
    (ORDERS, torch.zeros(6, 50, dtype=torch.bool), "masked and visible"),
])
def test_plans_that_do_not_cover_the_run_are_named(orders, masks, match):
    with pytest.raises(ValueError, match=match):
        ReplayPlan(orders, masks).check(n_items=5, epochs=2, steps_per_epoch=3, n_patches=50)


def test_plan_shapes_and_objective_are_checked(tmp_path):
    with pytest.raises(ValueError, match=r"\(epochs, n\)"):
        ReplayPlan(ORDERS[0], MASKS)
    plan = ReplayPlan(ORDERS, MASKS)
    with pytest.raises(ValueError, match="Weimann"):
        pretrain(torch.zeros(5, 12, 2500), WeimannConfig(), PretrainConfig(epochs=2, device="cpu"), tmp_path, plan=plan)


def test_digest_sees_orders_masks_and_weights():
    base = ReplayPlan(ORDERS, MASKS, {"w": torch.zeros(3)})
    assert base.digest() == ReplayPlan(ORDERS.numpy(), MASKS.numpy(), {"w": torch.zeros(3)}).digest()
    others = [ReplayPlan(ORDERS.flip(1), MASKS, base.weights), ReplayPlan(ORDERS, MASKS.roll(1, 1), base.weights),
              ReplayPlan(ORDERS, MASKS, {"w": torch.ones(3)}), ReplayPlan(ORDERS, MASKS)]
    assert len({base.digest(), *(p.digest() for p in others)}) == 5
