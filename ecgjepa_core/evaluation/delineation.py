"""Segmentation and delineation metrics on dense P/QRS/T labels, with bootstrap CIs over records.

Labels are class indices per sample (0 none, 1 P, 2 QRS, 3 T; truth may hold ``IGNORE`` = −1
where it is unknown, see :mod:`ecgjepa_core.data.ludb_segmentation`). Only samples with known
truth are scored.

* **IoU** of class c: |truth = c ∧ pred = c| / |truth = c ∨ pred = c| over the scored samples,
  pooled over every lead of every record. ``miou_waves`` is the mean over P, QRS and T;
  ``miou_all`` also averages "none" in (the convention of most segmentation papers; which one a
  paper's mIoU is must be read from the paper).
* **Delineation** (the LUDB literature's convention: Kalyakulina et al. 2020, Moskalenko et al.
  2019): a wave's onset is the first sample of a run of its class, its offset the last. Each
  annotated onset (offset) is matched one-to-one to the nearest predicted onset (offset) of the
  same wave within ±150 ms (closest pairs first): a match is a true positive, an annotated
  boundary left unmatched a false negative, a predicted one left unmatched a false positive.
  Predicted boundaries where the truth is unknown are not scored. Sensitivity = TP/(TP+FN),
  PPV = TP/(TP+FP), and the signed error (predicted − annotated, ms) of the matches as mean ± sd.
  Boundaries are on the evaluated grid (4 ms steps at 250 Hz).
* **Bootstrap**: records are resampled with replacement and every metric recomputed from the
  resampled records' pooled counts; :func:`paired_difference` draws the same records for two methods.
* **neurokit2's classical delineator** (``dwt``, no training) becomes dense labels with
  :func:`neurokit_labels` and is scored by the same functions. Its QRS onset and offset are the keys
  ``ECG_R_Onsets`` and ``ECG_R_Offsets`` (dwt's only QRS boundaries; it names them after the R wave).
  That onset comes early: on LUDB's test records 101–200 (8 leads at 250 Hz) its mean error is
  −56 ms against +5 ms at the offset, and of its 5,981 onsets inside the annotated span 46 % fall in
  the cardiologists' P wave, 50 % in "none" before the QRS and 3 % in the QRS (median 60 ms before
  the annotated QRS): dwt's R onset lands in the P wave or the PR segment, not at the QRS onset.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ecgjepa_core.data.ludb_segmentation import CLASSES, IGNORE

WAVES: tuple[str, ...] = ("P", "QRS", "T")
EDGES: tuple[str, ...] = ("onset", "offset")
TOLERANCE_MS = 150.0
# Predicted wave runs shorter than this become "none" (every method alike): a 1-sample flicker of
# a per-sample classifier is not a wave, and would count as two false boundaries.
MIN_WAVE_MS = 20.0

_IOU_COLUMNS = [f"{kind}_{c}" for c in CLASSES for kind in ("inter", "union")]
_BOUNDARY_COLUMNS = [f"{w}_{e}_{k}" for w in WAVES for e in EDGES for k in ("tp", "fn", "fp", "err_sum", "err_sq")]
STAT_COLUMNS = _IOU_COLUMNS + _BOUNDARY_COLUMNS


def wave_runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(class, first, last) of every maximal run of a wave class (1, 2, 3) in ``labels`` (T,)."""
    labels = np.asarray(labels)
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(labels)]]) - 1
    return [(int(labels[a]), int(a), int(b)) for a, b in zip(starts, stops) if labels[a] >= 1]


def drop_short_runs(labels: np.ndarray, fs: float, min_ms: float = MIN_WAVE_MS) -> np.ndarray:
    """A copy of ``labels`` (..., T) with wave runs shorter than ``min_ms`` set to none (0)."""
    out = np.array(labels, copy=True)
    min_len = min_ms * fs / 1000.0
    flat = out.reshape(-1, out.shape[-1])
    for row in flat:
        for _, a, b in wave_runs(row):
            if b - a + 1 < min_len:
                row[a:b + 1] = 0
    return out


def match_boundaries(truth: np.ndarray, pred: np.ndarray, tolerance: float) -> tuple[int, int, int, np.ndarray]:
    """One-to-one matching of boundary positions, closest pairs first, within ``tolerance``.

    truth (K,), pred (M,) positions → (TP, FN, FP, errors (TP,) = pred − truth of the matches).
    """
    truth, pred = np.asarray(truth, dtype=float), np.asarray(pred, dtype=float)
    if len(truth) == 0 or len(pred) == 0:
        return 0, len(truth), len(pred), np.zeros(0)
    dist = np.abs(pred[None, :] - truth[:, None])
    i, j = np.nonzero(dist <= tolerance)
    order = np.argsort(dist[i, j], kind="stable")
    used_t, used_p, errors = set(), set(), []
    for k in order:
        if i[k] in used_t or j[k] in used_p:
            continue
        used_t.add(i[k]), used_p.add(j[k])
        errors.append(pred[j[k]] - truth[i[k]])
    tp = len(errors)
    return tp, len(truth) - tp, len(pred) - tp, np.asarray(errors)


def lead_stats(truth: np.ndarray, pred: np.ndarray, fs: float, tolerance_ms: float = TOLERANCE_MS) -> np.ndarray:
    """Counts of one lead, truth (T,) with IGNORE, pred (T,) → (len(STAT_COLUMNS),) float64."""
    truth, pred = np.asarray(truth), np.asarray(pred)
    if truth.shape != pred.shape or truth.ndim != 1:
        raise ValueError(f"expected truth and pred of equal shape (T,), got {truth.shape} and {pred.shape}")
    scored = truth != IGNORE
    out = []
    for c in range(len(CLASSES)):
        t, p = (truth == c) & scored, (pred == c) & scored
        out += [np.sum(t & p), np.sum(t | p)]
    ms = 1000.0 / fs
    true_runs, pred_runs = wave_runs(np.where(scored, truth, 0)), wave_runs(pred)
    for w in range(1, len(WAVES) + 1):
        for edge in (1, 2):  # run first sample = onset, last = offset
            t_pos = [r[edge] for r in true_runs if r[0] == w]
            p_pos = [r[edge] for r in pred_runs if r[0] == w and scored[r[edge]]]
            tp, fn, fp, err = match_boundaries(np.array(t_pos) * ms, np.array(p_pos) * ms, tolerance_ms)
            out += [tp, fn, fp, err.sum(), np.sum(err ** 2)]
    return np.asarray(out, dtype=np.float64)


def record_stats(truth: np.ndarray, pred: np.ndarray, fs: float, tolerance_ms: float = TOLERANCE_MS) -> np.ndarray:
    """Counts of one record summed over its leads; truth and pred (L, T)."""
    return np.sum([lead_stats(t, p, fs, tolerance_ms) for t, p in zip(truth, pred)], axis=0)


def stats_table(truth: np.ndarray, pred: np.ndarray, record_ids: list[str], fs: float,
                tolerance_ms: float = TOLERANCE_MS) -> pd.DataFrame:
    """Per-record counts: truth and pred (N, L, T) → DataFrame indexed by record_id, STAT_COLUMNS."""
    if truth.shape != pred.shape or truth.ndim != 3 or len(record_ids) != len(truth):
        raise ValueError(f"expected truth and pred (N, L, T) for {len(record_ids)} records, "
                         f"got {truth.shape} and {pred.shape}")
    rows = [record_stats(t, p, fs, tolerance_ms) for t, p in zip(truth, pred)]
    return pd.DataFrame(rows, columns=STAT_COLUMNS, index=pd.Index([str(r) for r in record_ids], name="record_id"))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def metrics_from_sums(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Metric name → value(s) from pooled counts ``sums`` (..., len(STAT_COLUMNS)); vectorised over ``...``."""
    col = {name: sums[..., k] for k, name in enumerate(STAT_COLUMNS)}
    out: dict[str, np.ndarray] = {}
    iou = {c: _ratio(col[f"inter_{c}"], col[f"union_{c}"]) for c in CLASSES}
    out["miou_waves"] = np.mean([iou[w] for w in WAVES], axis=0)
    out["miou_all"] = np.mean([iou[c] for c in CLASSES], axis=0)
    for c in CLASSES:
        out[f"iou_{c}"] = iou[c]
    for w in WAVES:
        for e in EDGES:
            tp, fn, fp = (col[f"{w}_{e}_{k}"] for k in ("tp", "fn", "fp"))
            mean = _ratio(col[f"{w}_{e}_err_sum"], tp)
            out[f"{w}_{e}_sensitivity"] = _ratio(tp, tp + fn)
            out[f"{w}_{e}_ppv"] = _ratio(tp, tp + fp)
            out[f"{w}_{e}_error_mean_ms"] = mean
            out[f"{w}_{e}_error_sd_ms"] = np.sqrt(np.maximum(_ratio(col[f"{w}_{e}_err_sq"], tp) - mean ** 2, 0.0))
    return out


METRICS: tuple[str, ...] = tuple(metrics_from_sums(np.zeros(len(STAT_COLUMNS))))


def summarise(stats: pd.DataFrame) -> dict[str, float]:
    """Every metric of the records in ``stats`` (rows of :func:`stats_table`), pooled."""
    return {k: float(v) for k, v in metrics_from_sums(stats[STAT_COLUMNS].to_numpy().sum(axis=0)).items()}


def _resampled_sums(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, K) pooled counts of records drawn with replacement from ``values`` (N, K)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    return np.stack([values[i].sum(axis=0) for i in idx])


def metric_rows(stats: pd.DataFrame, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Tidy rows (metric, value, ci_low, ci_high, n_records): point value and percentile bootstrap CI."""
    values = stats[STAT_COLUMNS].to_numpy()
    point = metrics_from_sums(values.sum(axis=0))
    boot = metrics_from_sums(_resampled_sums(values, n_boot, seed))
    tail = 100 * (1 - level) / 2
    rows = []
    for name in METRICS:
        draws = boot[name][np.isfinite(boot[name])]
        low, high = np.percentile(draws, [tail, 100 - tail]) if len(draws) else (np.nan, np.nan)
        rows.append({"metric": name, "value": float(point[name]), "ci_low": float(low), "ci_high": float(high),
                     "n_records": len(values)})
    return pd.DataFrame(rows)


def paired_difference(stats_a: pd.DataFrame, stats_b: pd.DataFrame, metric: str = "miou_waves",
                      n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """``metric(a) − metric(b)`` on the records both were scored on, with a paired bootstrap CI
    (each resample draws the same records for both); ``p_a_wins`` = share of resamples with a > b."""
    common = stats_a.index.intersection(stats_b.index)
    if len(common) == 0:
        raise ValueError("paired_difference: the two methods share no scored record")
    a, b = stats_a.loc[common, STAT_COLUMNS].to_numpy(), stats_b.loc[common, STAT_COLUMNS].to_numpy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(common), size=(n_boot, len(common)))
    diff = (metrics_from_sums(np.stack([a[i].sum(0) for i in idx]))[metric]
            - metrics_from_sums(np.stack([b[i].sum(0) for i in idx]))[metric])
    diff = diff[np.isfinite(diff)]
    point = metrics_from_sums(a.sum(0))[metric] - metrics_from_sums(b.sum(0))[metric]
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(diff, [tail, 100 - tail])
    return {"metric": metric, "difference": float(point), "ci_low": float(low), "ci_high": float(high),
            "p_a_wins": float(np.mean(diff > 0)), "n_records": len(common), "n_boot": len(diff)}


_NEUROKIT_KEYS = {"P": ("ECG_P_Onsets", "ECG_P_Offsets"), "QRS": ("ECG_R_Onsets", "ECG_R_Offsets"),
                  "T": ("ECG_T_Onsets", "ECG_T_Offsets")}


def neurokit_lead_labels(signal: np.ndarray, fs: float) -> np.ndarray:
    """neurokit2's ``dwt`` delineation of one lead (T,) as dense labels (T,) int8.

    R peaks from ``ecg_peaks`` on the ``ecg_clean``-ed lead; for each beat, the span between a
    wave's onset and offset (both found, onset ≤ offset) is painted, T then P then QRS on top.
    Raises ValueError when neurokit2 cannot delineate the lead.
    """
    import neurokit2 as nk

    out = np.zeros(len(signal), dtype=np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # neurokit warns on short or odd leads; its output is what is scored
        try:
            clean = nk.ecg_clean(np.asarray(signal, dtype=float), sampling_rate=fs)
            _, peaks = nk.ecg_peaks(clean, sampling_rate=fs)
            if len(peaks["ECG_R_Peaks"]) < 2:
                raise ValueError("fewer than two R peaks")
            _, waves = nk.ecg_delineate(clean, peaks, sampling_rate=fs, method="dwt")
        except (ValueError, IndexError, ZeroDivisionError, KeyError) as err:
            raise ValueError(f"neurokit2 could not delineate the lead: {err}") from None
    for name in ("T", "P", "QRS"):
        onsets, offsets = (np.asarray(waves.get(k, []), dtype=float) for k in _NEUROKIT_KEYS[name])
        for on, off in zip(onsets, offsets):
            if np.isfinite(on) and np.isfinite(off) and on <= off:
                out[int(on):int(off) + 1] = CLASSES.index(name)
    return out


def neurokit_labels(x: np.ndarray, fs: float) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """neurokit2 labels of signals (N, L, T) → (labels (N, L, T) int8, failures [(row, lead, reason)]).

    A lead neurokit2 cannot delineate is predicted all "none" (its waves count as missed) and listed.
    """
    labels = np.zeros(x.shape, dtype=np.int8)
    failures = []
    for n, record in enumerate(x):
        for lead, signal in enumerate(record):
            try:
                labels[n, lead] = neurokit_lead_labels(signal, fs)
            except ValueError as err:
                failures.append((n, lead, str(err)))
    return labels, failures
