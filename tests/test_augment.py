"""RandAugment ops and the band-pass filters of the fine-tuning protocol (docs/protocols.md §4)."""

import numpy as np
import pytest

from scipy.signal import butter, sosfilt

from ecgjepa_core.evaluation import augment as A
from ecgjepa_core.evaluation.filters import bandpass

T, L = 2500, 8
M10 = A.Magnitude.from_level(10)


@pytest.fixture
def x():
    # Strictly positive so that any zero in an output was written by the op.
    return np.random.default_rng(0).uniform(1.0, 2.0, size=(L, T))


def rng(seed=1):
    return np.random.default_rng(seed)


def changed_columns(a, b):
    return np.flatnonzero(np.any(a != b, axis=0))


def test_level_10_magnitudes():
    assert M10.ratio == pytest.approx(0.3) and M10.amplitude == pytest.approx(0.3) and M10.period == pytest.approx(0.5)


@pytest.mark.parametrize("name", sorted(A.OPS))
def test_every_op_keeps_shape_and_input_and_is_reproducible(x, name):
    before = x.copy()
    out1 = A.OPS[name](x, rng(3), M10)
    out2 = A.OPS[name](x, rng(3), M10)
    assert out1.shape == x.shape
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(out1, out2)


def test_shift_moves_all_leads_and_zero_fills(x):
    seen = set()
    for seed in range(40):
        out = A.shift(x, rng(seed), M10)
        zero_cols = np.flatnonzero(np.all(out == 0, axis=0))
        s = len(zero_cols)
        assert s < 0.3 * T
        if s == 0:
            np.testing.assert_array_equal(out, x)
        elif zero_cols[0] == 0:  # right shift
            np.testing.assert_array_equal(zero_cols, np.arange(s))
            np.testing.assert_array_equal(out[:, s:], x[:, :T - s])
            seen.add("right")
        else:
            np.testing.assert_array_equal(zero_cols, np.arange(T - s, T))
            np.testing.assert_array_equal(out[:, :T - s], x[:, s:])
            seen.add("left")
    assert seen == {"left", "right"}


def test_cutout_zeroes_one_contiguous_span_on_all_leads(x):
    lengths = []
    for seed in range(40):
        out = A.cutout(x, rng(seed), M10)
        cols = changed_columns(out, x)
        lengths.append(len(cols))
        if len(cols):
            assert np.all(np.diff(cols) == 1)
            assert np.all(out[:, cols] == 0)
    assert 0 < max(lengths) < 0.3 * T


def test_drop_zeroes_scattered_time_indices_on_all_leads(x):
    counts = []
    for seed in range(40):
        out = A.drop(x, rng(seed), M10)
        cols = changed_columns(out, x)
        counts.append(len(cols))
        assert np.all(out[:, cols] == 0)
    assert max(counts) < int(0.3 * T) and max(counts) > 100
    assert np.any(np.diff(cols) > 1)  # not a span


def test_flip_negates(x):
    np.testing.assert_array_equal(A.flip(x, rng(), M10), -x)


def test_erase_zeroes_exactly_one_lead(x):
    erased = set()
    for seed in range(30):
        out = A.erase(x, rng(seed), M10)
        zero_leads = np.flatnonzero(np.all(out == 0, axis=1))
        assert len(zero_leads) == 1
        keep = np.delete(np.arange(L), zero_leads)
        np.testing.assert_array_equal(out[keep], x[keep])
        erased.add(int(zero_leads[0]))
    assert len(erased) > 4


def test_sine_adds_amplitude_03_two_periods(x):
    added = A.sine(x, rng(), M10) - x
    np.testing.assert_allclose(added, np.broadcast_to(added[0], added.shape))
    assert added[0].max() == pytest.approx(0.3, abs=1e-6) and added[0].min() == pytest.approx(-0.3, abs=1e-6)
    rising = np.flatnonzero((added[0][:-1] < 0) & (added[0][1:] >= 0))
    assert len(rising) == 1 and rising[0] == pytest.approx(T / 2, abs=1)  # 2 periods: one interior upward crossing
    np.testing.assert_allclose(added[0], 0.3 * np.sin(4 * np.pi * np.arange(T) / T), atol=1e-12)


def test_partial_sine_pastes_the_start_of_the_sine_on_one_span(x):
    wave = A.sine_wave(T, M10)
    lengths = []
    for seed in range(30):
        out = A.partial_sine(x, rng(seed), M10)
        cols = changed_columns(out, x)
        lengths.append(len(cols))
        if len(cols) > 2:
            span = np.arange(cols[0] - 1, cols[-1] + 1)  # the sine starts at 0: its first sample changes nothing
            np.testing.assert_allclose(out[:, span] - x[:, span], np.broadcast_to(wave[:len(span)], (L, len(span))),
                                       atol=1e-12)
    assert 0 < max(lengths) < 0.3 * T


def test_partial_white_noise_on_one_span_with_sd_03(x):
    out = max((A.partial_white_noise(x, rng(s), M10) for s in range(20)), key=lambda o: len(changed_columns(o, x)))
    cols = changed_columns(out, x)
    assert np.all(np.diff(cols) == 1) and len(cols) < 0.3 * T
    noise = (out - x)[:, cols]
    assert noise.std() == pytest.approx(0.3, rel=0.1)
    assert not np.allclose(noise[0], noise[1])  # independent per lead


def test_rand_augment_applies_two_distinct_ops():
    x = np.random.default_rng(0).normal(size=(L, T))
    wave = A.sine_wave(T, M10)
    out = A.rand_augment(x, rng(), ops=("flip", "sine"), prob=1.0)
    # flip∘sine or sine∘flip: both ops applied exactly once, in either order.
    assert np.allclose(out, -x + wave) or np.allclose(out, -x - wave)
    np.testing.assert_array_equal(A.rand_augment(x, rng(), prob=0.0), x)


def test_rand_augment_is_reproducible_and_varies_with_the_generator():
    x = np.random.default_rng(0).normal(size=(4, L, T))
    a, b, c = (A.augment_batch(x, rng(s)) for s in (5, 5, 6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32 and a.shape == x.shape


# --- filters -------------------------------------------------------------------------------------

FS = 250.0
t = np.arange(T) / FS
MID = slice(500, 2000)  # away from the edges


def amplitude(signal, f):
    """Least-squares amplitude of the f-Hz component over the middle of the record."""
    basis = np.stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)], axis=1)[MID]
    coef, *_ = np.linalg.lstsq(basis, signal[MID], rcond=None)
    return float(np.hypot(*coef))


def phase(signal, f):
    basis = np.stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)], axis=1)[MID]
    (s, c), *_ = np.linalg.lstsq(basis, signal[MID], rcond=None)
    return float(np.arctan2(c, s))


@pytest.mark.parametrize("f", [2.0, 5.0, 25.0])
def test_bandpass_is_zero_phase_in_the_passband(f):
    x = np.sin(2 * np.pi * f * t)
    y = bandpass(x[None])[0].astype(np.float64)
    assert y.shape == x.shape
    assert abs(phase(y, f)) < 1e-3  # forward-backward: no delay
    assert amplitude(y, f) == pytest.approx(1.0, abs=0.01)
    # A causal pass of the same filters does shift the phase, so the test can tell them apart.
    high = butter(5, 0.67, btype="highpass", fs=FS, output="sos")
    low = butter(5, 40.0, btype="lowpass", fs=FS, output="sos")
    assert abs(phase(sosfilt(low, sosfilt(high, x)), f)) > 0.02


def test_bandpass_removes_baseline_drift_and_high_frequencies():
    drift = 2.0 * np.sin(2 * np.pi * 0.2 * t)
    ecg_band = np.sin(2 * np.pi * 10.0 * t)
    hum = 0.5 * np.sin(2 * np.pi * 60.0 * t)
    y = bandpass((drift + ecg_band + hum)[None])[0].astype(np.float64)
    drift_db = 20 * np.log10(amplitude(y, 0.2) / 2.0)
    hum_db = 20 * np.log10(amplitude(y, 60.0) / 0.5)
    assert drift_db < -40  # 0.2 Hz is ~1.7 octaves below 0.67 Hz: order 5, applied twice
    assert hum_db < -30
    assert amplitude(y, 10.0) == pytest.approx(1.0, abs=0.01)


def test_bandpass_filters_each_lead_independently():
    x = np.random.default_rng(0).normal(size=(2, L, T))
    y = bandpass(x)
    np.testing.assert_allclose(y[1, 3], bandpass(x[1, 3][None])[0], atol=1e-6)
