"""Learning-rate and EMA schedules against the formulas and values of docs/method_kim.md §7."""

import math

import pytest

from ecgjepa_core.training.schedules import PretrainSchedule, warmup_cosine_lr

PEAK = 2.5e-5
I = 7  # iterations per epoch; deliberately not a round number
PAPER = PretrainSchedule(steps_per_epoch=I, epochs=100, peak_lr=PEAK, warmup_epochs=5)


def test_warmup_is_linear_from_1e6():
    W = 5 * I
    assert PAPER.lr(0) == 1e-6
    for t in (1, 3, W - 1):
        assert PAPER.lr(t) == pytest.approx(1e-6 + t * (PEAK - 1e-6) / W, rel=1e-12)
    lrs = [PAPER.lr(t) for t in range(W)]
    assert all(b > a for a, b in zip(lrs, lrs[1:]))


def test_cosine_phase_counts_from_zero_not_from_warmup_end():
    W, T = 5 * I, 100 * I
    assert PAPER.lr(W) == pytest.approx(1e-6 + 0.5 * (PEAK - 1e-6) * (1 + math.cos(math.pi * W / T)), rel=1e-12)
    assert PAPER.lr(W) / PEAK == pytest.approx(0.9938, abs=5e-4)  # spec: ≈0.994·peak, not peak
    assert PAPER.lr(W - 1) < PAPER.lr(W)  # warm-up ends just below the cosine curve
    assert PAPER.lr(T // 2) == pytest.approx(1e-6 + 0.5 * (PEAK - 1e-6), rel=1e-3)


def test_cosine_decreases_to_lr_min_at_the_end():
    T = 100 * I
    lrs = [PAPER.lr(t) for t in range(5 * I, T)]
    assert all(b < a for a, b in zip(lrs, lrs[1:]))
    assert lrs[-1] == pytest.approx(1e-6, rel=1e-3)
    assert PAPER.lr(T) == 1e-6 and PAPER.lr(T + 5) == 1e-6


def test_no_warmup_starts_at_peak():
    assert warmup_cosine_lr(0, PEAK, 0, 100) == pytest.approx(PEAK)


def test_momentum_linear_from_0996_to_1():
    T = 100 * I
    assert PAPER.momentum(0) == 0.996
    assert PAPER.momentum(T // 2) == pytest.approx(0.998, abs=1e-5)
    assert PAPER.momentum(T - 1) == pytest.approx(0.996 + (T - 1) * 0.004 / T, rel=1e-12)
    assert PAPER.momentum(T - 1) < 1.0


@pytest.mark.parametrize("kwargs", [dict(steps_per_epoch=0, epochs=1, peak_lr=1e-4),
                                    dict(steps_per_epoch=1, epochs=3, peak_lr=1e-4, warmup_epochs=4)])
def test_invalid_schedules_raise(kwargs):
    with pytest.raises(ValueError):
        PretrainSchedule(**kwargs)
