"""Helpers shared by the data tests: the shipped sample and wfdb's own physical signal."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import wfdb

from ecgjepa_core.data.records import STANDARD_12_LEADS
from ecgjepa_core.paths import SAMPLE_DIR


def sample(name: str) -> Path:
    return SAMPLE_DIR / name


def writable_copy(name: str, target: Path) -> Path:
    """Copy data/sample/<name> to ``target`` (files writable, so tests can corrupt them)."""
    shutil.copytree(sample(name), target, copy_function=shutil.copyfile)
    return target


def wfdb_physical(base: Path, sampto: int | None = None) -> np.ndarray:
    """(12, T) float32 from wfdb's physical signal, rows put in I … V6 order by upper-case name."""
    rec = wfdb.rdrecord(str(base), physical=True, sampto=sampto)
    names = [n.upper() for n in rec.sig_name]
    return rec.p_signal.T[[names.index(lead.upper()) for lead in STANDARD_12_LEADS]].astype(np.float32)


def digital_to_mv(base: Path) -> np.ndarray:
    """(12, T) (digital − baseline) / gain computed here from wfdb's *digital* signal and header."""
    rec = wfdb.rdrecord(str(base), physical=False)
    names = [n.upper() for n in rec.sig_name]
    mv = (rec.d_signal - np.asarray(rec.baseline)) / np.asarray(rec.adc_gain)
    return mv.T[[names.index(lead.upper()) for lead in STANDARD_12_LEADS]]
