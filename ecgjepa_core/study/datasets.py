"""The data a profile uses, from prepared caches: the pretraining corpus and the labelled sets.

Every source is prepared once into ``cache/<profile>/<reader>-<folder>-<recipe fingerprint>``
(``$ECGJEPA_CACHE`` overrides ``cache/``); a cache whose recipe or source changed is rebuilt
(see ``data/cache.py``). Caches hold 12 leads; models read the rows of their leads.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ecgjepa_core.data import ArraysReader, ChapmanNingboReader, Code15Reader, Cpsc2018Reader, LudbReader, PtbxlReader
from ecgjepa_core.data.cache import PreparedCache, ensure_cache
from ecgjepa_core.data.labels import CPSC2018_CLASSES, CPSC2018_CODES, PTBXL_SUPERCLASSES
from ecgjepa_core.data.splits import Split, paper_split, ptbxl_standard_split, stratified_kfold
from ecgjepa_core.paths import REPO_ROOT
from ecgjepa_core.study.profiles import LEADS_8_OF_12, Profile, Source

READERS = {"ptbxl": PtbxlReader, "cpsc2018": Cpsc2018Reader, "chapman_ningbo": ChapmanNingboReader,
           "code15": Code15Reader, "ludb": LudbReader, "arrays": ArraysReader}
# Source options that steer how a profile uses a source rather than how it is read.
_USE_OPTIONS = ("pretrain_folds",)


def cache_root(profile: Profile) -> Path:
    return Path(os.environ.get("ECGJEPA_CACHE", REPO_ROOT / "cache")) / profile.name


def make_reader(profile: Profile, source: Source):
    if source.reader == "synthetic":
        from ecgjepa_core.data.synthetic import SyntheticReader

        return SyntheticReader(**source.options)
    options = {k: v for k, v in source.options.items() if k not in _USE_OPTIONS}
    return READERS[source.reader](profile.path(source), **options)


def cache_dir(profile: Profile, source: Source) -> Path:
    """One cache per (reader, folder, reader options, recipe), shared by the sources that coincide."""
    options = {k: v for k, v in sorted(source.options.items()) if k not in _USE_OPTIONS}
    slug = re.sub(r"[^A-Za-z0-9]+", "_", f"{source.path}_{json.dumps(options)}" if options else source.path).strip("_")
    return cache_root(profile) / f"{source.reader}-{slug or 'default'}-{source.recipe.fingerprint()}"


def prepare(profile: Profile, source: Source, workers: int | None = None, progress: bool = True) -> PreparedCache:
    """The prepared cache of ``source`` (built or rebuilt if needed)."""
    return ensure_cache(make_reader(profile, source), source.recipe, cache_dir(profile, source),
                        workers=workers, progress=progress)


class SignalRows(torch.utils.data.Dataset):
    """Rows of prepared (N, 12, T) float16 arrays as float32 (L, T) tensors of the chosen leads."""

    def __init__(self, parts: Sequence[tuple[np.ndarray, np.ndarray]], leads: Sequence[int] = LEADS_8_OF_12):
        self.parts = [(signals, np.asarray(rows, dtype=np.int64)) for signals, rows in parts]
        self.leads = list(leads)
        self._offsets = np.cumsum([0] + [len(rows) for _, rows in self.parts])

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def __getitem__(self, i: int) -> torch.Tensor:
        part = int(np.searchsorted(self._offsets, i, side="right") - 1)
        signals, rows = self.parts[part]
        return torch.from_numpy(np.asarray(signals[rows[i - self._offsets[part]], self.leads], dtype=np.float32))


def pretrain_rows(profile: Profile, source: Source, cache: PreparedCache) -> np.ndarray:
    """Rows of ``cache`` that may be used for pretraining: for PTB-XL only folds 1–8, so that neither
    the test fold (10) nor the standard validation fold (9) is ever seen."""
    if source.options.get("pretrain_folds") == "train":
        return np.flatnonzero(cache.records["strat_fold"].between(1, 8).to_numpy())
    return np.arange(len(cache.records))


class EvaluationRecordsInCorpus(ValueError):
    """A pretraining source would feed records that an evaluation of the same profile tests on."""


def check_corpus_excludes_evaluation(profile: Profile) -> None:
    """Refuse a pretraining source that holds evaluation records: CPSC 2018 and LUDB are evaluated on every record
    (cross-validation folds, the segmentation's test records), so neither folder may be pretrained on; PTB-XL's
    folder only through its training folds (``pretrain_folds="train"``: folds 1-8, never validation fold 9 or test
    fold 10)."""
    evaluated = {(s.reader, profile.path(s).resolve()): s.name for s in (profile.cpsc, profile.ludb) if s is not None}
    ptbxl = (profile.ptbxl.reader, profile.path(profile.ptbxl).resolve())
    for source in profile.pretrain_sources:
        where = (source.reader, profile.path(source).resolve())
        if where in evaluated:
            raise EvaluationRecordsInCorpus(
                f"pretraining source {source.name!r} reads {where[1]}, the records of the {evaluated[where]} "
                "evaluation: its test records would be pretrained on")
        if where == ptbxl and source.options.get("pretrain_folds") != "train":
            raise EvaluationRecordsInCorpus(
                f"pretraining source {source.name!r} reads PTB-XL ({where[1]}) beyond its training folds: set "
                "options pretrain_folds='train' (folds 1-8)")


def pretraining_corpus(profile: Profile, leads: Sequence[int] = LEADS_8_OF_12, include_synthetic: bool = True,
                       progress: bool = True) -> tuple[SignalRows, pd.DataFrame]:
    """The profile's pretraining corpus and a table of records per source (kept, used, skipped); no record of an
    evaluation set enters it (:func:`check_corpus_excludes_evaluation`)."""
    check_corpus_excludes_evaluation(profile)
    parts, counts = [], []
    sources = list(profile.pretrain_sources)
    if include_synthetic and profile.synthetic:
        sources.append(synthetic_source(profile))
    for source in sources:
        cache = prepare(profile, source, progress=progress)
        rows = pretrain_rows(profile, source, cache)
        parts.append((cache.signals, rows))
        c = cache.info["counts"]
        counts.append({"source": source.name, "records_found": c["index"], "prepared": c["kept"],
                       "used_for_pretraining": len(rows), "skipped": c["skipped"],
                       "skipped_by_reason": c["skipped_by_reason"], "warnings": cache.info.get("warnings", []),
                       "recipe_fingerprint": cache.info["recipe_fingerprint"],
                       "source_fingerprint": cache.info["source_fingerprint"]})
    return SignalRows(parts, leads), pd.DataFrame(counts)


def synthetic_source(profile: Profile) -> Source:
    from ecgjepa_core.study.profiles import STUDY_RAW, PAPER_RAW

    recipe = PAPER_RAW if profile.name == "paper" else STUDY_RAW
    return Source("synthetic", "synthetic", "", recipe, {"n": profile.synthetic, "seed": 0})


@dataclass
class LabelledSet:
    """A prepared labelled dataset: (N, 12, T) float16 signals, records table, multi-hot labels, and the
    cache they were read from (its folder and ``info``: counts, skips, fingerprints)."""

    name: str
    signals: np.ndarray
    records: pd.DataFrame
    classes: tuple[str, ...]
    class_names: tuple[str, ...]
    cache: PreparedCache

    @property
    def y(self) -> np.ndarray:
        """(N, C) 0/1 multi-hot in ``classes`` order."""
        return self.records[list(self.classes)].to_numpy(dtype=np.int64)

    def rows(self, record_ids: Sequence[str]) -> np.ndarray:
        where = pd.Series(np.arange(len(self.records)), index=self.records["record_id"].astype(str))
        return where.loc[list(record_ids)].to_numpy()

    def x(self, rows: np.ndarray, leads: Sequence[int] = LEADS_8_OF_12) -> np.ndarray:
        """(n, L, T) float32 for ``rows`` with the chosen leads."""
        return np.asarray(self.signals[rows][:, list(leads)], dtype=np.float32)

    def single_label(self, rows: np.ndarray) -> np.ndarray:
        """The subset of ``rows`` with exactly one class (the multi-class task, docs/data.md §3)."""
        return rows[self.y[rows].sum(1) == 1]


def ptbxl(profile: Profile, progress: bool = True) -> LabelledSet:
    cache = prepare(profile, profile.ptbxl, progress=progress)
    return LabelledSet("PTB-XL", cache.signals, cache.records.reset_index(drop=True), PTBXL_SUPERCLASSES,
                       PTBXL_SUPERCLASSES, cache)


def cpsc(profile: Profile, progress: bool = True) -> LabelledSet:
    cache = prepare(profile, profile.cpsc, progress=progress)
    records = cache.records.reset_index(drop=True)
    records.columns = [str(c) for c in records.columns]
    return LabelledSet("CPSC2018", cache.signals, records, CPSC2018_CODES,
                       tuple(name for _, name in CPSC2018_CLASSES), cache)


def ptbxl_splits(profile: Profile, data: LabelledSet) -> dict[str, Split]:
    """The PTB-XL splits the profile evaluates on: ``paper`` (1–9 / 10), ``standard`` (1–8 / 9 / 10)."""
    makers = {"paper": lambda idx: paper_split("ptbxl", idx), "standard": ptbxl_standard_split}
    return {name: makers[name](data.records) for name in profile.ptbxl_splits}


def cpsc_splits(profile: Profile, data: LabelledSet, seed: int = 0) -> list[Split]:
    """CPSC's paper split (g1–g6 / g7) where g7 is present, else stratified k-fold (stated in the split)."""
    if (data.records["folder"] == "g7").any():
        return [paper_split("cpsc2018", data.records)]
    return stratified_kfold(data.records, list(data.classes), k=profile.evaluation.cpsc_folds, seed=seed,
                            dataset="CPSC2018 g1")
