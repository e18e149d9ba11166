"""Heart-rate and QRS-duration labels for the feature-regression task (docs/protocols.md §7).

The paper's labels come from the Joung et al. 2024 delineation model, which is not available;
this module replaces it and measures its own error on LUDB's cardiologist annotations.

* Heart rate (bpm) = 60,000 / mean RR (ms). R peaks are found by neurokit2 on every lead
  (``nk.ecg_clean`` + ``nk.ecg_peaks``); the label is the median of the per-lead rates, which
  ignores leads where the detector misfires (on 88 LUDB records at 250 Hz, lead II alone was
  off by more than 5 bpm on 6 records, the median over leads on 2).
* QRS duration (ms) = mean over beats of a global (all-lead) QRS width. Every lead is
  cleaned and scaled to unit sd (so raw mV and per-lead z-scored inputs give the same
  label), the spatial velocity sqrt(Σ_leads (dx/dt)²) is smoothed over 10 ms, and in a
  window of −120…+150 ms around each R peak the QRS is the span where the velocity exceeds
  its baseline plus 15 % of its rise; ``QRS_OFFSET_MS`` then adds the mean gap to the
  annotated onset/offset (fitted on odd LUDB records, checked on even ones).
  neurokit2's own QRS bounds (``nk.ecg_delineate`` 'dwt', 'cwt', 'prominence'; 'peak' gives
  none) were measured first on 88 LUDB records at 250 Hz and rejected: correlation with the
  annotated QRS width 0.1–0.3, mean absolute error 25–77 ms.

Records where a step fails get NaN and a reason, never a number.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import neurokit2 as nk
import numpy as np
import pandas as pd
import scipy.signal

from ecgjepa_core.evaluation.metrics import mae_sd
from ecgjepa_core.progress import progress_bar

ECG_FEATURES_VERSION = 2  # bump when the labels change, so that cached label tables are recomputed
QRS_THRESHOLD = 0.15  # fraction of the velocity rise above baseline that counts as QRS
QRS_OFFSET_MS = 12.0  # mean annotated − measured width on odd LUDB records (250 Hz)
QRS_WINDOW_MS = (120, 150)  # search window before / after the R peak
BASELINE_MS = 100  # velocity baseline: median over this span just before the window
HR_AGREEMENT_BPM = 5.0  # a lead "agrees" if its rate is this close to the median rate
HR_RANGE_BPM = (20.0, 250.0)
QRS_RANGE_MS = (40.0, 250.0)


@dataclass(frozen=True)
class ECGFeatures:
    """Labels of one record; a NaN field comes with a non-empty ``reason``."""

    heart_rate: float  # bpm
    qrs_duration: float  # ms
    n_beats: int  # beats used for the QRS duration
    reason: str = ""


def clean_leads(signal: np.ndarray, fs: float) -> np.ndarray:
    """neurokit2's default cleaning (0.5 Hz high-pass, powerline) of every lead; (L, T) → (L, T)."""
    return np.stack([nk.ecg_clean(lead, sampling_rate=fs) for lead in signal])


def r_peaks_by_lead(clean: np.ndarray, fs: float) -> list[np.ndarray]:
    """R-peak sample indices detected on each lead of ``clean`` (L, T); empty where detection fails."""
    peaks = []
    for lead in clean:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # neurokit warns on short/odd leads; we judge the output
                peaks.append(np.asarray(nk.ecg_peaks(lead, sampling_rate=fs)[1]["ECG_R_Peaks"], dtype=int))
        except (ValueError, IndexError, ZeroDivisionError):
            peaks.append(np.array([], dtype=int))
    return peaks


def rate_bpm(peaks: np.ndarray, fs: float) -> float:
    """60,000 / mean RR interval in ms; NaN with fewer than two peaks."""
    if len(peaks) < 2:
        return float("nan")
    return float(60.0 * fs / np.mean(np.diff(peaks)))


def spatial_velocity(clean: np.ndarray, fs: float) -> np.ndarray:
    """sqrt(Σ_leads (dx/dt)²) of unit-sd leads, smoothed over 10 ms; (L, T) → (T − 1,)."""
    sd = clean.std(axis=1, keepdims=True)
    scaled = clean / np.where(sd > 0, sd, 1.0)  # a lead the filters left flat adds nothing, not NaN
    velocity = np.sqrt((np.diff(scaled, axis=1) ** 2).sum(axis=0))
    width = max(1, round(0.01 * fs))
    return np.convolve(velocity, np.ones(width) / width, mode="same")


def qrs_widths_ms(velocity: np.ndarray, r_peaks: np.ndarray, fs: float) -> np.ndarray:
    """Thresholded QRS span (ms, before ``QRS_OFFSET_MS``) around each R peak with a full window; (B,)."""
    before, after = (round(ms * fs / 1000) for ms in QRS_WINDOW_MS)
    baseline = round(BASELINE_MS * fs / 1000)
    widths = []
    for r in r_peaks:
        start, stop = r - before, r + after
        if start < baseline or stop > len(velocity):
            continue
        window = velocity[start:stop]
        floor = np.median(velocity[start - baseline:start])
        above = np.flatnonzero(window > floor + QRS_THRESHOLD * (window.max() - floor))
        if above.size == 0:  # nothing rises above the floor (a flat stretch): no QRS to measure
            continue
        widths.append((above[-1] - above[0] + 1) * 1000.0 / fs)
    return np.asarray(widths)


def ecg_features(signal: np.ndarray, fs: float) -> ECGFeatures:
    """Heart rate and QRS duration of one 10 s ECG, ``signal`` (L, T) or (T,) at ``fs`` Hz.

    Any lead order; leads that are flat are ignored. Returns NaN plus a reason when the leads
    disagree on the rate (fewer than half within ``HR_AGREEMENT_BPM`` of the median), when no
    lead yields two R peaks, when fewer than two beats have a full QRS window, or when a value
    leaves its physiological range.
    """
    signal = np.atleast_2d(np.asarray(signal, dtype=float))
    if not np.isfinite(signal).all():
        return _failed("non-finite samples")
    signal = signal[signal.std(axis=1) > 0]
    if len(signal) == 0:
        return _failed("all leads flat")
    clean = clean_leads(signal, fs)
    peaks = r_peaks_by_lead(clean, fs)
    rates = np.array([rate_bpm(p, fs) for p in peaks])
    if np.isnan(rates).all():
        return _failed("no lead with two R peaks")
    heart_rate = float(np.nanmedian(rates))
    agree = np.abs(rates - heart_rate) <= HR_AGREEMENT_BPM
    if agree.sum() < len(rates) / 2:
        return _failed(f"leads disagree on the rate ({agree.sum()} of {len(rates)} within {HR_AGREEMENT_BPM:g} bpm)")
    if not HR_RANGE_BPM[0] <= heart_rate <= HR_RANGE_BPM[1]:
        return _failed(f"heart rate {heart_rate:.0f} bpm outside {HR_RANGE_BPM}")
    # Beats are anchored on the lead whose rate is the median one.
    anchor = peaks[int(np.nanargmin(np.abs(rates - heart_rate)))]
    widths = qrs_widths_ms(spatial_velocity(clean, fs), anchor, fs)
    if len(widths) < 2:
        return ECGFeatures(heart_rate, float("nan"), len(widths), "fewer than two beats with a full QRS window")
    qrs = float(widths.mean() + QRS_OFFSET_MS)
    if not QRS_RANGE_MS[0] <= qrs <= QRS_RANGE_MS[1]:
        return ECGFeatures(heart_rate, float("nan"), len(widths), f"QRS {qrs:.0f} ms outside {QRS_RANGE_MS}")
    return ECGFeatures(heart_rate, qrs, len(widths))


def _failed(reason: str) -> ECGFeatures:
    return ECGFeatures(float("nan"), float("nan"), 0, reason)


def ludb_reference(annotations: dict[str, pd.DataFrame], fs: float) -> tuple[float, float]:
    """Cardiologists' heart rate (bpm) and QRS duration (ms) from one LUDB record's annotations
    (``LudbReader.annotations``: lead -> rows of wave, onset, peak, offset in samples at ``fs``).

    Heart rate: 60,000 / mean RR of the annotated QRS peaks of lead II (the lead with most
    annotated peaks if lead II has fewer than two). QRS: for each lead-II beat, the median over
    leads of the annotated QRS onsets and of the offsets (beats matched within 100 ms; leads or
    beats lacking an onset or offset are left out), width = offset − onset; mean over beats.
    This is a global multi-lead width, like the one ``ecg_features`` measures.
    """
    qrs = {lead: waves[waves["wave"] == "QRS"] for lead, waves in annotations.items()}
    peaks = {lead: rows["peak"].to_numpy(dtype=float) for lead, rows in qrs.items()}
    beats = peaks["II"] if len(peaks["II"]) >= 2 else max(peaks.values(), key=len)
    heart_rate = 60.0 * fs / np.mean(np.diff(beats))
    complexes = pd.concat(qrs.values()).dropna(subset=["onset", "offset"])[["onset", "peak", "offset"]]
    complexes = complexes.to_numpy(dtype=float).reshape(-1, 3)
    widths = []
    for r in beats:
        same_beat = complexes[np.abs(complexes[:, 1] - r) < 0.1 * fs]
        if len(same_beat):
            widths.append((np.median(same_beat[:, 2]) - np.median(same_beat[:, 0])) * 1000.0 / fs)
    return float(heart_rate), float(np.mean(widths)) if widths else float("nan")


def _features_of_rows(signals: np.ndarray, rows: range, fs: float) -> list[ECGFeatures]:
    return [ecg_features(np.asarray(signals[i], dtype=np.float64), fs) for i in rows]


def ecg_feature_table(signals: np.ndarray, record_ids: list[str], fs: float, workers: int | None = None,
                      progress: bool = True, chunk: int = 64) -> pd.DataFrame:
    """``ecg_features`` of every row of ``signals`` (N, L, T), in parallel; one row per record with
    ``heart_rate``, ``qrs_duration``, ``n_beats`` and the failure ``reason`` (empty when measured)."""
    from concurrent.futures import ProcessPoolExecutor

    chunks = [range(i, min(i + chunk, len(record_ids))) for i in range(0, len(record_ids), chunk)]
    workers = workers or os.cpu_count() or 1
    results: list[ECGFeatures] = []
    with progress_bar(total=len(record_ids), desc="ECG features", disable=not progress) as bar:
        if workers == 1 or len(chunks) == 1:
            for rows in chunks:
                results += _features_of_rows(signals, rows, fs)
                bar.update(len(rows))
        else:
            with ProcessPoolExecutor(workers) as pool:
                for out in pool.map(_features_of_rows, [signals] * len(chunks), chunks, [fs] * len(chunks)):
                    results += out
                    bar.update(len(out))
    table = pd.DataFrame([vars(f) for f in results])
    table.insert(0, "record_id", record_ids)
    return table


def validate_on_ludb(ludb_root: Path, fs: float = 250, records: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """``ecg_features`` against LUDB's annotations, on 12-lead records resampled (FFT) to ``fs``.

    ``ludb_root`` is the LUDB release folder (``ludb.csv`` and ``data/``); ``records`` defaults to
    all of them. Returns one row per record (reference, measured, reason) and a summary: MAE ± sd
    for each feature over the records where it was measured, the failure counts, and the QRS error
    on even record numbers (not used to fit ``QRS_OFFSET_MS``).
    """
    from ecgjepa_core.data.ludb import FS as LUDB_FS, LudbReader

    reader = LudbReader(ludb_root)
    rows = []
    for name in records or reader.index()["record_id"].tolist():
        record = reader.read(name)
        signal = record.signal.astype(np.float64)
        if fs != LUDB_FS:
            signal = scipy.signal.resample(signal, round(signal.shape[1] * fs / LUDB_FS), axis=1)
        got = ecg_features(signal, fs)
        ref_hr, ref_qrs = ludb_reference(record.meta["annotations"], LUDB_FS)
        rows.append(dict(record=name, ref_heart_rate=ref_hr, heart_rate=got.heart_rate,
                         ref_qrs=ref_qrs, qrs_duration=got.qrs_duration, n_beats=got.n_beats, reason=got.reason))
    table = pd.DataFrame(rows)
    summary = {"records": len(table), "fs": fs}
    for name, ref, got in (("heart_rate", "ref_heart_rate", "heart_rate"), ("qrs_duration", "ref_qrs", "qrs_duration")):
        ok = table[got].notna() & table[ref].notna()
        summary[name] = mae_sd(table.loc[ok, ref].to_numpy(), table.loc[ok, got].to_numpy())
        summary[f"{name}_failures"] = int(table[got].isna().sum())
    held_out = table["qrs_duration"].notna() & table["ref_qrs"].notna() & (table["record"].astype(int) % 2 == 0)
    summary["qrs_duration_even_records"] = mae_sd(table.loc[held_out, "ref_qrs"].to_numpy(),
                                                  table.loc[held_out, "qrs_duration"].to_numpy())
    return table, summary


if __name__ == "__main__":
    import sys

    from ecgjepa_core.paths import shared_dir

    # python -m ecgjepa_core.data.ecg_features [LUDB folder]: the delineator's own error on LUDB.
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_dir() / "data" / "ludb"
    table, summary = validate_on_ludb(root)
    for key, value in summary.items():
        print(f"{key}: {value}")
    print(table[table["reason"] != ""].to_string(index=False))
