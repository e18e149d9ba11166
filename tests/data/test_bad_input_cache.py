"""Bad inputs to the prepared cache: it never deletes what it did not write, never serves stale
signals, rebuilds what is damaged, and counts every record it does not hold (14 cases).

| case | behaviour |
| --- | --- |
| raw data copy + a user file put inside the cache folder, reader pointed there | CacheLocationError; nothing deleted |
| a user file inside a cache folder, then a rebuild | the file is still there afterwards (never deleted) |
| source bytes changed, same size, mtime set back | cache not reused; the new signal is served |
| truncated ``signals.npy`` | rebuilt |
| half-written ``info.json`` | rebuilt |
| ``signals.npy`` replaced by an array of another shape | rebuilt |
| damaged ``sources.json`` | files re-hashed, cache reused (same bytes) |
| leftover ``.<name>.building-<pid>`` of a killed build | removed at the next build |
| leftover ``.<name>.old-<pid>`` holding a user's file | kept, with a warning naming it |
| three processes finishing the same cache at once, 200 times each | all succeed, no ``.old-*`` left |
| reader index with repeated record ids | ValueError naming the reader's folder and the ids |
| PTB-XL rows whose files are absent | counted in ``skipped_by_reason`` as ``missing_file`` with their ids |
| shadowed CPSC names | both cached; the warning is kept in ``info.json`` |
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.data import Cpsc2018Reader, PtbxlReader
from ecgjepa_core.data.cache import CacheLocationError, build_cache, ensure_cache, load_cache, StaleCacheError
from ecgjepa_core.data.cache_folder import MARKER, swap_in, mark_as_build
from ecgjepa_core.data.preprocess import PAPER_RECIPE
from ecgjepa_core.data.records import STANDARD_12_LEADS, Record

from ._helpers import writable_copy


class NpyFolderReader:
    """Records ``r0`` … of a folder of (12, 5000) float32 ``.npy`` files; the folder is the source."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def index(self) -> pd.DataFrame:
        return pd.DataFrame({"record_id": sorted(p.stem for p in self.root.glob("r*.npy"))})

    def read(self, record_id: str) -> Record:
        path = self.root / f"{record_id}.npy"
        return Record(record_id, np.load(path), 500.0, STANDARD_12_LEADS, path)


def write_records(root: Path, n: int = 3) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    t = np.arange(5000, dtype=np.float32) / 500
    for i in range(n):
        np.save(root / f"r{i}.npy", (np.sin(2 * np.pi * (i + 1) * t)[None] * np.ones((12, 1))).astype(np.float32))
    return root


def build(reader, out: Path, **kwargs):
    return ensure_cache(reader, PAPER_RECIPE, out, workers=1, progress=False, **kwargs)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --- 52-53: a cache build deletes only what a cache build wrote -------------------------------

def test_raw_data_inside_the_cache_folder_is_refused_and_kept(tmp_path):
    out = tmp_path / "cache"
    build(NpyFolderReader(write_records(tmp_path / "raw")), out)
    copy = write_records(out / "raw_copy")
    (out / "my_notes.txt").write_text("mine")
    with pytest.raises(CacheLocationError, match=f"{out}: refusing to use it as a cache folder: it contains"):
        build_cache(NpyFolderReader(copy), PAPER_RECIPE, out, workers=1, progress=False)
    assert sorted(p.name for p in copy.iterdir()) == ["r0.npy", "r1.npy", "r2.npy"]
    assert (out / "my_notes.txt").read_text() == "mine"


def test_rebuild_never_deletes_a_file_it_did_not_write(tmp_path):
    raw = write_records(tmp_path / "raw")
    out = tmp_path / "cache"
    build(NpyFolderReader(raw), out)
    (out / "my_notes.txt").write_text("mine")
    (out / "figures").mkdir()
    (out / "figures" / "plot.png").write_bytes(b"png")
    write_records(raw, n=4)  # the source changed: the cache is rebuilt
    cache = build(NpyFolderReader(raw), out)
    assert cache.signals.shape[0] == 4
    assert (out / "my_notes.txt").read_text() == "mine" and (out / "figures" / "plot.png").read_bytes() == b"png"
    assert (out / MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [".cache.lock"]


# --- 54-58: stale or damaged caches -----------------------------------------------------------

def test_content_change_with_same_size_and_mtime_is_seen(tmp_path):
    raw = write_records(tmp_path / "raw")
    out = tmp_path / "cache"
    reader = NpyFolderReader(raw)
    build(reader, out)
    path = raw / "r1.npy"
    st = path.stat()
    signal = np.load(path)
    signal[:, :100] = 0.25
    np.save(path, signal)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    with pytest.raises(StaleCacheError, match="source data changed"):
        load_cache(out, reader, PAPER_RECIPE)
    cache = build(reader, out)
    np.testing.assert_array_equal(cache.signals[1], PAPER_RECIPE.apply(reader.read("r1")))


def test_touched_source_with_the_same_bytes_keeps_the_cache(tmp_path):
    raw = write_records(tmp_path / "raw")
    reader = NpyFolderReader(raw)
    build(reader, tmp_path / "cache")
    os.utime(raw / "r0.npy")
    load_cache(tmp_path / "cache", reader, PAPER_RECIPE)  # no StaleCacheError


def _damage_signals_truncated(out: Path) -> None:
    with open(out / "signals.npy", "r+b") as f:
        f.truncate(f.seek(0, 2) // 2)


def _damage_info_half_written(out: Path) -> None:
    text = (out / "info.json").read_text()
    (out / "info.json").write_text(text[: len(text) // 2])


def _damage_signals_other_shape(out: Path) -> None:
    np.save(out / "signals.npy", np.zeros((3, 8, 100), np.float16))


@pytest.mark.parametrize("damage, why", [(_damage_signals_truncated, "damaged signals.npy"),
                                         (_damage_info_half_written, "info.json: unreadable or incomplete"),
                                         (_damage_signals_other_shape, r"shape \(3, 8, 100\)")])
def test_damaged_cache_is_rebuilt(tmp_path, damage, why):
    reader = NpyFolderReader(write_records(tmp_path / "raw"))
    out = tmp_path / "cache"
    good = np.array(build(reader, out).signals)
    damage(out)
    with pytest.raises(StaleCacheError, match=why):
        load_cache(out, reader, PAPER_RECIPE)
    np.testing.assert_array_equal(build(reader, out).signals, good)


def test_damaged_source_table_only_costs_a_rehash(tmp_path):
    reader = NpyFolderReader(write_records(tmp_path / "raw"))
    out = tmp_path / "cache"
    build(reader, out)
    (out / "sources.json").write_text("{not json")
    load_cache(out, reader, PAPER_RECIPE)


# --- 59-61: leftovers and concurrency ---------------------------------------------------------

def test_leftover_build_folder_of_a_killed_build_is_removed(tmp_path):
    leftover = tmp_path / f".cache.building-{dead_pid()}"
    mark_as_build(leftover)
    np.save(leftover / "signals.npy", np.zeros(10, np.float16))
    build(NpyFolderReader(write_records(tmp_path / "raw")), tmp_path / "cache")
    assert not leftover.exists()


def test_leftover_swap_folder_with_a_user_file_is_kept(tmp_path, caplog):
    leftover = tmp_path / f".cache.old-{dead_pid()}"
    mark_as_build(leftover)
    (leftover / "my_notes.txt").write_text("mine")
    with caplog.at_level(logging.WARNING):
        build(NpyFolderReader(write_records(tmp_path / "raw")), tmp_path / "cache")
    assert (leftover / "my_notes.txt").read_text() == "mine"
    assert str(leftover) in caplog.text and "my_notes.txt" in caplog.text


def _swap_many(out: Path, start, rounds: int, errors) -> None:
    start.wait()
    try:
        for i in range(rounds):
            built = out.with_name(f".{out.name}.building-{os.getpid()}")
            mark_as_build(built)
            (built / "info.json").write_text(json.dumps({"by": os.getpid(), "round": i}))
            swap_in(built, out)
    except Exception as err:  # reported to the parent
        errors.put(f"{type(err).__name__}: {err}")


def test_two_processes_finishing_the_same_cache(tmp_path):
    out = tmp_path / "cache"
    ctx = multiprocessing.get_context("fork")
    start, errors = ctx.Event(), ctx.Queue()
    # Without the lock this fails within a second: "Directory not empty" and .cache.old-<pid> left behind.
    workers = [ctx.Process(target=_swap_many, args=(out, start, 200, errors)) for _ in range(3)]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(60)
    assert errors.empty(), errors.get()
    assert all(w.exitcode == 0 for w in workers)
    assert json.loads((out / "info.json").read_text())["round"] == 199
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache.lock", "cache"]


# --- 62-64: what the index says reaches info.json ---------------------------------------------

def test_repeated_record_ids_are_refused_naming_the_reader(tmp_path):
    class Repeating(NpyFolderReader):
        def index(self):
            return pd.DataFrame({"record_id": ["r0", "r1", "r0"]})

    raw = write_records(tmp_path / "raw")
    with pytest.raises(ValueError, match=rf"Repeating\({raw}\).index\(\): record_id not unique: \['r0'\]"):
        build_cache(Repeating(raw), PAPER_RECIPE, tmp_path / "cache", workers=1, progress=False)


def test_absent_ptbxl_files_are_counted_as_skips(tmp_path):
    root = writable_copy("ptbxl", tmp_path / "ptbxl")
    for ext in ("hea", "dat"):
        (root / f"records500/00000/00008_hr.{ext}").unlink()
    cache = build(PtbxlReader(root), tmp_path / "cache")
    counts = cache.info["counts"]
    assert counts["index"] == 10 and counts["kept"] == 9 and counts["skipped_by_reason"] == {"missing_file": 1}
    assert cache.info["skipped"] == {"missing_file": ["8"]}


def test_shadowed_names_are_cached_with_the_warning(tmp_path):
    root = writable_copy("cpsc2018", tmp_path / "cpsc")
    (root / "g2").mkdir()
    for ext in ("hea", "mat"):
        os.replace(root / f"g1/A0001.{ext}", root / f"g2/A0001.{ext}")
        (root / f"g1/A0001.{ext}").write_bytes((root / f"g1/A0002.{ext}").read_bytes().replace(b"A0002", b"A0001"))
    cache = build(Cpsc2018Reader(root), tmp_path / "cache")
    assert {"g1/A0001", "g2/A0001"} <= set(cache.records["record_id"])
    assert any("g1/A0001.hea" in w and "g2/A0001.hea" in w for w in cache.info["warnings"])
