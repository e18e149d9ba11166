"""A given data order, time masks and starting weights for :func:`~ecgjepa_core.training.pretrain.pretrain`.

By default the loop draws all three itself from ``PretrainConfig.seed``: the initial weights, the
record order of each epoch (``DistributedSampler``) and one time mask per iteration. A
:class:`ReplayPlan` hands them in instead, so that a run recorded elsewhere (the authors' loop, whose
order and masks come from the global RNG) can be replayed step by step, or a run can start from
given weights. Everything else (schedules, optimiser, EMA, checkpoints, resume) is the loop's own.
Per-sample draws (stochastic depth) still come from the seeded RNG.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset, DistributedSampler


@dataclass(frozen=True)
class ReplayPlan:
    """orders: (E, n) int, the dataset indices of epoch e in the order they are batched (batch b of a
    single process is ``orders[e, b·B : (b+1)·B]``; the last batch may be partial).
    masks: (S, N) bool, the time mask of global iteration t (True = masked); S ≥ epochs × iterations.
    weights: a whole-model state dict (our names) to start from, or None for the seeded random init.
    """

    orders: torch.Tensor
    masks: torch.Tensor
    weights: Mapping[str, torch.Tensor] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "orders", torch.as_tensor(self.orders, dtype=torch.int64))
        object.__setattr__(self, "masks", torch.as_tensor(self.masks, dtype=torch.bool))
        if self.orders.ndim != 2 or self.masks.ndim != 2:
            raise ValueError(f"replay plan: orders must be (epochs, n) and masks (steps, N), got "
                             f"{tuple(self.orders.shape)} and {tuple(self.masks.shape)}")

    def check(self, n_items: int, epochs: int, steps_per_epoch: int, n_patches: int) -> None:
        """Raise ValueError unless the plan covers a run of ``epochs`` × ``steps_per_epoch`` over ``n_items``."""
        if self.orders.shape[0] < epochs or self.orders.shape[1] == 0:
            raise ValueError(f"replay plan: {self.orders.shape[0]} epoch orders of {self.orders.shape[1]} items "
                             f"for a run of {epochs} epochs")
        if self.orders.min() < 0 or self.orders.max() >= n_items:
            raise ValueError(f"replay plan: order indices must lie in 0..{n_items - 1} (the dataset's items)")
        if self.masks.shape[0] < epochs * steps_per_epoch or self.masks.shape[1] != n_patches:
            raise ValueError(f"replay plan: masks {tuple(self.masks.shape)}, the run needs "
                             f"({epochs * steps_per_epoch}, {n_patches})")
        counts = self.masks.sum(1)
        if (counts == 0).any() or (counts == n_patches).any():
            raise ValueError("replay plan: every mask needs masked and visible patches")

    def digest(self) -> str:
        """SHA-256 of orders, masks and weights: a resumed run must replay the same plan."""
        h = hashlib.sha256()
        for t in (self.orders, self.masks, *(v for _, v in sorted((self.weights or {}).items()))):
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
        h.update(repr(sorted(self.weights or {})).encode())
        return h.hexdigest()


class PlannedSampler(DistributedSampler):
    """``DistributedSampler`` whose epoch e follows ``orders[e]`` instead of a seeded shuffle.

    As in its parent, every rank takes an interleaved share (``order[rank::world]``, padded with
    the first indices when the length is not a multiple of the world size), so the union of the
    ranks' k-th batches is the k-th batch of a single process.
    """

    def __init__(self, dataset: Dataset, orders: torch.Tensor, num_replicas: int, rank: int):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=False)
        self.orders = orders
        self.num_samples = -(-orders.shape[1] // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        order = self.orders[self.epoch].tolist()
        pad = self.total_size - len(order)
        order += (order * -(-pad // len(order)))[:pad]
        return iter(order[self.rank:self.total_size:self.num_replicas])
