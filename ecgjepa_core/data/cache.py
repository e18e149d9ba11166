"""Prepared cache: raw folder (read-only) → reader → :class:`Recipe` → cache folder → Dataset.

A cache folder holds

* ``signals.npy``: float16 (N, L, T) array, opened with ``np.load(mmap_mode="r")``;
* ``records.csv``: the reader's index rows that were kept, in array order;
* ``info.json``: recipe and its fingerprint, source fingerprint, counts, skipped record ids by
  reason (records ``read`` refused and records the reader left out of its index), the reader's
  warnings, records with all-zero (flat) leads, package version, wall time;
* ``sources.json``: size, times and content digest of every source file (``fingerprint.py``);
* ``.ecgjepa-cache``: the marker that lets a later build replace the folder (``cache_folder.py``).

Building streams index chunks through a process pool and writes results in index order with
plain file writes (no memmap pages kept resident), so memory stays bounded by a few chunks. It
builds into a hidden sibling folder and swaps it into place only on success, deleting nothing
but what a build wrote. A cache is reused only when both the recipe and the source
fingerprints match; a cache folder that is incomplete or damaged is rebuilt.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import time
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from ecgjepa_core.progress import progress_bar
from ecgjepa_core import __version__
from ecgjepa_core.paths import shared_dir
from ecgjepa_core.data.cache_folder import (INFO, RECORDS, SIGNALS, SOURCES, CacheLocationError, locked,
                                           mark_as_build, refuse_overlap, remove_leftovers, swap_in)
from ecgjepa_core.data.fingerprint import source_files, source_fingerprint, source_roots, source_stats
from ecgjepa_core.data.preprocess import Recipe
from ecgjepa_core.data.records import RecordError, RecordWarning, index_warnings, left_out

log = logging.getLogger(__name__)

__all__ = ["CacheLocationError", "CachedECGDataset", "PreparedCache", "StaleCacheError", "build_cache",
           "ensure_cache", "load_cache"]


class StaleCacheError(RuntimeError):
    """The cache folder is missing, incomplete, or was built from another recipe or source."""


def raw_roots(reader) -> list[Path]:
    """The raw data locations a cache must not overlap: the reader's sources + the shared data folder."""
    return source_roots(reader) + [shared_dir() / "data"]


def prepare_chunk(reader, recipe: Recipe, record_ids: list[str]) -> list[tuple[str, Any, str, list[str]]]:
    """Run ``recipe.apply(reader.read(id))`` on each id → [(id, array | None, skip reason | "", warnings)].

    A ``RecordError`` becomes a skip; a ``RecordWarning`` (a record kept, but read with something the user
    must know, e.g. a negative ADC gain) becomes one of its warnings, counted by the cache; anything else is
    fatal and re-raised as a picklable RuntimeError naming the record.
    """
    out = []
    for rid in record_ids:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RecordWarning)
            try:
                out.append((rid, recipe.apply(reader.read(rid)), "", []))
            except RecordError as e:
                out.append((rid, None, e.reason, []))
            except Exception as e:
                raise RuntimeError(f"record {rid}: {type(e).__name__}: {e}") from None
        for w in caught:
            if issubclass(w.category, RecordWarning):
                out[-1][3].append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _prepared_chunks(reader, recipe: Recipe, chunks: list[list[str]], workers: int):
    """Yield ``prepare_chunk`` results in chunk order, at most 2·workers chunks in flight."""
    if workers <= 1 or getattr(reader, "in_process_only", False):
        for chunk in chunks:
            yield prepare_chunk(reader, recipe, chunk)
        return
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        pending: deque = deque()
        todo = iter(chunks)
        for chunk in todo:
            pending.append(pool.submit(prepare_chunk, reader, recipe, chunk))
            if len(pending) >= 2 * workers:
                break
        while pending:
            result = pending.popleft().result()
            chunk = next(todo, None)
            if chunk is not None:
                pending.append(pool.submit(prepare_chunk, reader, recipe, chunk))
            yield result


def _shrink_npy_rows(path: Path, n_rows: int) -> None:
    """Rewrite the header of a C-order ``.npy`` file to ``n_rows`` rows in place and truncate it.

    The new header is padded with spaces to the old length (valid per the .npy format).
    """
    with open(path, "r+b") as f:
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
        new_shape = (n_rows,) + tuple(shape[1:])
        text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": fortran,
                     "shape": new_shape})
        len_size = 2 if version == (1, 0) else 4
        room = offset - 6 - 2 - len_size - 1  # magic, version, length field, final newline
        if len(text) > room:
            raise RuntimeError(f"{path}: header does not fit when shrinking to {n_rows} rows")
        f.seek(6 + 2 + len_size)
        f.write((text + " " * (room - len(text)) + "\n").encode("latin1"))
        f.truncate(offset + n_rows * int(np.prod(new_shape[1:], dtype=np.int64)) * dtype.itemsize)


def build_cache(reader, recipe: Recipe, out_dir: Path | str, workers: int | None = None,
                progress: bool = True, chunk_size: int = 32,
                index: pd.DataFrame | None = None) -> Path:
    """Build the cache of ``reader`` under ``recipe`` into ``out_dir``; returns ``out_dir``.

    ``workers``: processes (default: all cores; ≤ 1 runs in this process). ``index``: the
    reader's index if already computed. Nothing is left behind on error or interruption, and
    leftovers of killed builds of the same folder are removed first (``cache_folder.py``).
    Records the reader left out of its index (``index.attrs["left_out"]``) count as skips.
    """
    started = time.monotonic()
    out_dir = Path(out_dir).resolve()
    refuse_overlap(out_dir, raw_roots(reader))
    remove_leftovers(out_dir)
    index = reader.index() if index is None else index
    ids = index["record_id"].astype(str).tolist()
    if repeated := sorted(set(pd.Series(ids)[pd.Series(ids).duplicated()])):
        raise ValueError(f"{type(reader).__name__}({', '.join(map(str, source_roots(reader)))}).index(): "
                         f"record_id not unique: {repeated[:5]}")
    for warning in index_warnings(index):
        log.warning(warning)
    workers = (os.cpu_count() or 1) if workers is None else workers
    files = source_files(reader, _known_source_files(out_dir))
    src_fp = source_fingerprint(reader, index, files)
    fingerprinted = time.monotonic()
    tmp = out_dir.with_name(f".{out_dir.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)  # this process's own earlier attempt
    mark_as_build(tmp)
    try:
        shape = (len(ids), recipe.leads, recipe.n_samples)
        header = np.lib.format.open_memmap(tmp / SIGNALS, mode="w+", dtype=recipe.dtype, shape=shape)
        offset = header.offset
        del header
        kept: list[int] = []
        skipped: dict[str, list[str]] = {reason: list(rids) for reason, rids in left_out(index).items()}
        n_listed = len(ids) + sum(len(rids) for rids in skipped.values())
        zero_leads: dict[str, list[str]] = {}
        warned: list[str] = []
        chunks = [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]
        with open(tmp / SIGNALS, "r+b") as f, progress_bar(total=len(ids), unit="rec", disable=not progress,
                                                   desc=f"cache {out_dir.name}") as bar:
            f.seek(offset)
            position = {rid: i for i, rid in enumerate(ids)}
            for results in _prepared_chunks(reader, recipe, chunks, workers):
                for rid, signal, reason, notes in results:
                    warned += notes
                    if signal is None:
                        skipped.setdefault(reason, []).append(rid)
                        continue
                    f.write(np.ascontiguousarray(signal, dtype=recipe.dtype).tobytes())
                    kept.append(position[rid])
                    flat = ~signal.any(axis=1)
                    if flat.any():
                        zero_leads[rid] = [recipe.lead_names[i] for i in np.flatnonzero(flat)]
                bar.update(len(results))
        _shrink_npy_rows(tmp / SIGNALS, len(kept))
        index.iloc[kept].to_csv(tmp / RECORDS, index=False)
        info = {
            "recipe": asdict(recipe), "recipe_fingerprint": recipe.fingerprint(),
            "source_fingerprint": src_fp, "reader": type(reader).__qualname__,
            "shape": [len(kept), recipe.leads, recipe.n_samples], "dtype": recipe.dtype,
            "lead_names": list(recipe.lead_names),
            "counts": {"index": n_listed, "kept": len(kept), "skipped": n_listed - len(kept),
                       "skipped_by_reason": {k: len(v) for k, v in sorted(skipped.items())},
                       "records_with_zero_leads": len(zero_leads), "record_warnings": len(warned)},
            "skipped": dict(sorted(skipped.items())), "warnings": index_warnings(index) + warned,
            "zero_leads": zero_leads,
            "package_version": __version__, "workers": workers,
            "wall_seconds": round(time.monotonic() - started, 3),
            "phase_seconds": {"index_and_fingerprint": round(fingerprinted - started, 3),
                              "records": round(time.monotonic() - fingerprinted, 3)},
        }
        (tmp / SOURCES).write_text(json.dumps(files))
        (tmp / INFO).write_text(json.dumps(info, indent=1))
        swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if warned:
        log.warning("%s: %d warnings on records kept (info.json lists them), e.g. %s", out_dir, len(warned), warned[0])
    log.info("built %s: %d kept, %d skipped %s in %.1f s", out_dir, len(kept), n_listed - len(kept),
             info["counts"]["skipped_by_reason"], info["wall_seconds"])
    return out_dir


@dataclass
class PreparedCache:
    """An opened cache: ``signals`` (N, L, T) read-only memmap, ``records`` (N rows), ``info``."""

    dir: Path
    signals: np.ndarray
    records: pd.DataFrame
    info: dict

    def dataset(self, label_columns: Sequence[str] | None = None) -> "CachedECGDataset":
        return CachedECGDataset(self.dir, label_columns)


def load_cache(out_dir: Path | str, reader, recipe: Recipe,
               index: pd.DataFrame | None = None) -> PreparedCache:
    """Open the cache in ``out_dir`` if it was built from ``reader``'s current source with ``recipe``.

    Raises :class:`StaleCacheError` saying why otherwise (missing, incomplete or damaged files,
    recipe or source changed).
    """
    out_dir = Path(out_dir).resolve()
    with locked(out_dir, exclusive=False):
        if not all((out_dir / name).is_file() for name in (SIGNALS, RECORDS, INFO)):
            raise StaleCacheError(f"{out_dir}: no complete cache ({SIGNALS}, {RECORDS}, {INFO})")
        info = _read_json(out_dir / INFO)
        if not isinstance(info, dict) or "counts" not in info:
            raise StaleCacheError(f"{out_dir / INFO}: unreadable or incomplete")
        if info.get("recipe_fingerprint") != recipe.fingerprint():
            raise StaleCacheError(f"{out_dir}: recipe changed ({info.get('recipe')} → {asdict(recipe)})")
        index = reader.index() if index is None else index
        files = source_files(reader, _known_source_files(out_dir))
        if info.get("source_fingerprint") != source_fingerprint(reader, index, files):
            raise StaleCacheError(f"{out_dir}: source data changed (files, contents or index)")
        try:
            signals = np.load(out_dir / SIGNALS, mmap_mode="r")
            records = pd.read_csv(out_dir / RECORDS, dtype={"record_id": str})
        except Exception as err:  # truncated or overwritten files
            raise StaleCacheError(f"{out_dir}: damaged {SIGNALS} or {RECORDS}: {err}") from None
        if list(signals.shape) != info.get("shape") or str(signals.dtype) != info.get("dtype"):
            raise StaleCacheError(f"{out_dir / SIGNALS}: shape {signals.shape} {signals.dtype}, "
                                  f"info.json says {info.get('shape')} {info.get('dtype')}")
        if signals.shape[0] != len(records):
            raise StaleCacheError(f"{out_dir}: {signals.shape[0]} signals but {len(records)} records")
    return PreparedCache(out_dir, signals, records, info)


def _read_json(path: Path) -> Any:
    """The JSON in ``path``, or None if it is unreadable or not JSON (a half-written file)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _known_source_files(out_dir: Path) -> dict[str, list]:
    """The source file table an earlier build left in ``out_dir`` (empty if none or damaged)."""
    known = _read_json(out_dir / SOURCES)
    return known if isinstance(known, dict) else {}


# Caches this process found valid, with the stat keys of their source and cache files at that moment. The
# reader's code cannot change inside a process, so while no key changes the cache is still valid: asking for it
# again costs a stat of each file instead of the reader's index (every header, every CODE-15 tracing's start).
_FOUND_VALID: dict[tuple, tuple[dict, PreparedCache]] = {}


def _file_keys(reader, out_dir: Path) -> dict:
    keys = {name: key for name, (_, key) in source_stats(reader).items()}
    for name in (SIGNALS, RECORDS, INFO, SOURCES):
        st = (out_dir / name).stat()
        keys[f"<cache>/{name}"] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    return keys


def ensure_cache(reader, recipe: Recipe, out_dir: Path | str, **build_kwargs) -> PreparedCache:
    """Reuse the cache in ``out_dir`` if valid for ``reader`` + ``recipe``; otherwise rebuild it."""
    out_dir = Path(out_dir).resolve()
    options = sorted((k, str(v)) for k, v in vars(reader).items() if not k.startswith("_"))
    memo = (out_dir, type(reader).__qualname__, repr(options), recipe.fingerprint())
    if memo in _FOUND_VALID:
        keys, cache = _FOUND_VALID.pop(memo)
        try:
            if _file_keys(reader, out_dir) == keys:
                _FOUND_VALID[memo] = keys, cache
                return cache
        except OSError:  # a cache file is gone: validate from scratch
            pass
    index = reader.index()
    try:
        cache = load_cache(out_dir, reader, recipe, index)
    except StaleCacheError as why:
        log.info("rebuilding cache: %s", why)
        build_cache(reader, recipe, out_dir, index=index, **build_kwargs)
        cache = load_cache(out_dir, reader, recipe, index)
    _FOUND_VALID[memo] = _file_keys(reader, out_dir), cache
    return cache


class CachedECGDataset(torch.utils.data.Dataset):
    """Items of a cache folder: float32 tensor (L, T), or (signal, float32 labels (C,)).

    Labels are the ``label_columns`` of ``records.csv``. The memmap is opened lazily so the
    dataset pickles cheaply into DataLoader workers.
    """

    def __init__(self, cache_dir: Path | str, label_columns: Sequence[str] | None = None):
        self.path = Path(cache_dir) / SIGNALS
        records = pd.read_csv(Path(cache_dir) / RECORDS, dtype={"record_id": str})
        self.labels = (None if label_columns is None
                       else torch.tensor(records[list(label_columns)].to_numpy(np.float32)))
        self._n = len(records)
        self._signals = None

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int):
        if self._signals is None:
            self._signals = np.load(self.path, mmap_mode="r")
        x = torch.from_numpy(np.asarray(self._signals[i], dtype=np.float32))
        return x if self.labels is None else (x, self.labels[i])

    def __getstate__(self):
        return {**self.__dict__, "_signals": None}
