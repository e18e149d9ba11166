"""Prepared cache: build, reuse, rebuild on change, skips, atomicity, bounded memory, parallel == serial."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ecgjepa_core.data.cache import (
    CachedECGDataset, StaleCacheError, build_cache, ensure_cache, load_cache,
)
from ecgjepa_core.data.preprocess import PAPER_RECIPE, Recipe
from ecgjepa_core.data.records import STANDARD_12_LEADS, Record, RecordError

from .test_preprocess import WfdbFolderReader


class SyntheticReader:
    """Cheap reader of ``n`` deterministic 12-lead records; ``bad`` ids are unusable, ``fatal`` crashes.

    ``root`` is a small file standing for the source data (its size/mtime drive the source
    fingerprint). Signals are synthetic on purpose: these tests exercise the cache machinery.
    """

    def __init__(self, root: Path, n: int, bad=(), fatal=None, fs=500.0, n_samples=5000):
        self.root, self.n, self.bad, self.fatal = Path(root), n, set(bad), fatal
        self.fs, self.n_samples = fs, n_samples

    def index(self) -> pd.DataFrame:
        ids = [f"r{i:05d}" for i in range(self.n)]
        return pd.DataFrame({"record_id": ids, "label": [i % 2 for i in range(self.n)]})

    def read(self, record_id: str) -> Record:
        i = int(record_id[1:])
        if record_id in self.bad:
            raise RecordError(self.root / record_id, "too_short", "synthetic short record")
        if record_id == self.fatal:
            raise OSError(f"{self.root / record_id}: disk on fire")
        t = np.arange(self.n_samples, dtype=np.float32) / self.fs
        sig = np.sin(2 * np.pi * (1 + i % 7) * t)[None] * np.arange(1, 13, dtype=np.float32)[:, None]
        return Record(record_id, sig.astype(np.float32), self.fs, STANDARD_12_LEADS, self.root)


@pytest.fixture
def source(tmp_path) -> Path:
    f = tmp_path / "raw" / "source.bin"
    f.parent.mkdir()
    f.write_bytes(b"v1")
    return f


def test_build_on_real_records_then_reuse_and_dataset(shared_data, tmp_path, caplog):
    raw = tmp_path / "ptbxl"
    raw.mkdir()
    for hea in sorted((shared_data / "ptbxl" / "records500").rglob("*.hea"))[:6]:
        for f in (hea, hea.with_suffix(".dat")):
            shutil.copy2(f, raw / f.name)
    reader = WfdbFolderReader(raw)
    out = tmp_path / "cache" / "ptbxl8"
    cache = ensure_cache(reader, PAPER_RECIPE, out, workers=2, progress=False)
    assert cache.signals.shape == (6, 8, 2500) and cache.signals.dtype == np.float16
    assert cache.records["record_id"].tolist() == reader.index()["record_id"].tolist()
    np.testing.assert_array_equal(cache.signals[3], PAPER_RECIPE.apply(reader.read(cache.records["record_id"][3])))
    info = json.loads((out / "info.json").read_text())
    assert info["recipe_fingerprint"] == PAPER_RECIPE.fingerprint() and info["counts"]["kept"] == 6
    mtime = (out / "signals.npy").stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="ecgjepa_core.data.cache"):
        again = ensure_cache(reader, PAPER_RECIPE, out, workers=2, progress=False)
    assert (out / "signals.npy").stat().st_mtime_ns == mtime and "rebuilding" not in caplog.text
    ds = again.dataset()
    assert len(ds) == 6 and ds[0].dtype == torch.float32 and ds[0].shape == (8, 2500)
    assert [p.name for p in (tmp_path / "cache").glob(".*")] == [".ptbxl8.lock"]  # no temporary folders left


def test_rebuild_on_recipe_change_and_on_source_change(source, tmp_path, caplog):
    reader = SyntheticReader(source, 5)
    out = tmp_path / "c"
    ensure_cache(reader, PAPER_RECIPE, out, workers=1, progress=False)
    with caplog.at_level(logging.INFO, logger="ecgjepa_core.data.cache"):
        c12 = ensure_cache(reader, replace(PAPER_RECIPE, leads=12), out, workers=1, progress=False)
        assert "recipe changed" in caplog.text and c12.signals.shape == (5, 12, 2500)
        caplog.clear()
        source.write_bytes(b"v2 longer")
        with pytest.raises(StaleCacheError, match="source data changed"):
            load_cache(out, reader, replace(PAPER_RECIPE, leads=12))
        ensure_cache(reader, replace(PAPER_RECIPE, leads=12), out, workers=1, progress=False)
        assert "source data changed" in caplog.text
        caplog.clear()
        ensure_cache(SyntheticReader(source, 4), replace(PAPER_RECIPE, leads=12), out, workers=1,
                     progress=False)
        assert "source data changed" in caplog.text  # the index changed


def test_skips_counted_and_labels_served(source, tmp_path):
    reader = SyntheticReader(source, 10, bad={"r00002", "r00007"})
    cache = ensure_cache(reader, PAPER_RECIPE, tmp_path / "c", workers=2, chunk_size=3, progress=False)
    info = cache.info
    assert info["counts"] == {"index": 10, "kept": 8, "skipped": 2, "skipped_by_reason": {"too_short": 2},
                              "records_with_zero_leads": 0, "record_warnings": 0}
    assert info["skipped"] == {"too_short": ["r00002", "r00007"]}
    assert "r00002" not in cache.records["record_id"].tolist() and cache.signals.shape[0] == 8
    x, y = CachedECGDataset(tmp_path / "c", ["label"])[2]
    assert x.shape == (8, 2500) and y.tolist() == [float(cache.records["label"][2])]


def test_flat_leads_after_zscore_are_counted(source, tmp_path):
    class FlatV6(SyntheticReader):
        def read(self, record_id):
            rec = super().read(record_id)
            rec.signal[-1] = 0.3
            return rec

    recipe = Recipe(zscore=True)
    cache = ensure_cache(FlatV6(source, 3), recipe, tmp_path / "c", workers=1, progress=False)
    assert cache.info["counts"]["records_with_zero_leads"] == 3
    assert cache.info["zero_leads"]["r00001"] == ["V6"]
    assert np.isfinite(cache.signals).all() and not cache.signals[:, -1].any()


def test_fatal_error_leaves_no_partial_cache_and_keeps_the_old_one(source, tmp_path):
    out = tmp_path / "c"
    ensure_cache(SyntheticReader(source, 4), PAPER_RECIPE, out, workers=1, progress=False)
    before = (out / "signals.npy").read_bytes()
    for workers in (1, 2):
        with pytest.raises(RuntimeError, match="r00005.*disk on fire"):
            build_cache(SyntheticReader(source, 8, fatal="r00005"), PAPER_RECIPE, out, workers=workers,
                        chunk_size=2, progress=False)
        assert (out / "signals.npy").read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == [".c.lock", "c", "raw"]
    with pytest.raises(RuntimeError):
        build_cache(SyntheticReader(source, 8, fatal="r00001"), PAPER_RECIPE, tmp_path / "new", workers=1,
                    progress=False)
    assert not (tmp_path / "new").exists()


def test_refuses_to_write_inside_raw_folder_or_over_a_non_cache(source, tmp_path, shared_data):
    reader = SyntheticReader(source, 2)
    with pytest.raises(ValueError, match="inside the raw data folder"):
        build_cache(reader, PAPER_RECIPE, source.parent / "cache", progress=False)
    with pytest.raises(ValueError, match="inside the raw data folder"):
        build_cache(reader, PAPER_RECIPE, shared_data / "cache", progress=False)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a cache"):
        build_cache(reader, PAPER_RECIPE, tmp_path / "notes", workers=1, progress=False)
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_parallel_build_equals_serial_build(source, tmp_path):
    reader = SyntheticReader(source, 23, bad={"r00004"})
    a = build_cache(reader, PAPER_RECIPE, tmp_path / "serial", workers=1, progress=False)
    b = build_cache(reader, PAPER_RECIPE, tmp_path / "parallel", workers=2, chunk_size=2, progress=False)
    for name in ("signals.npy", "records.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert np.load(a / "signals.npy").shape == (22, 8, 2500)


def test_memory_stays_bounded(tmp_path):
    # 2000 records × 12 leads: 120 MB of float16 output (240 MB as float32). The build runs in a
    # fresh process and must grow its peak RSS by far less than the output size.
    script = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from pathlib import Path
        from ecgjepa_core.data.cache import build_cache
        from ecgjepa_core.data.preprocess import Recipe
        from tests.data.test_cache import SyntheticReader
        src = Path({str(tmp_path)!r}) / "raw" / "raw.bin"; src.parent.mkdir(); src.write_bytes(b"x")
        reader = SyntheticReader(src, 2000, fs=250.0, n_samples=2500)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        build_cache(reader, Recipe(leads=12), Path({str(tmp_path)!r}) / "c", workers=1, progress=False)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    growth_mb = int(out.stdout.split()[-1])
    assert growth_mb < 40, growth_mb
    assert np.load(tmp_path / "c" / "signals.npy", mmap_mode="r").shape == (2000, 12, 2500)


class CountingReader(SyntheticReader):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._indexed = 0

    def index(self) -> pd.DataFrame:
        self._indexed += 1
        return super().index()


def test_a_cache_found_valid_is_not_indexed_again_until_a_file_changes(source, tmp_path, caplog):
    """Each notebook asks for the same caches many times (every pretraining variant opens the corpus): after the
    first check, an unchanged cache costs a stat of its files, not the reader's index; any change is still seen."""
    reader, out = CountingReader(source, 5), tmp_path / "c"
    first = ensure_cache(reader, PAPER_RECIPE, out, workers=1, progress=False)
    assert reader._indexed == 1
    assert ensure_cache(reader, PAPER_RECIPE, out, workers=1, progress=False) is first and reader._indexed == 1
    stat = source.stat()
    source.write_bytes(b"v9")  # same size, mtime set back: only the change time tells
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with caplog.at_level(logging.INFO, logger="ecgjepa_core.data.cache"):
        rebuilt = ensure_cache(reader, PAPER_RECIPE, out, workers=1, progress=False)
    assert reader._indexed == 2 and "source data changed" in caplog.text and rebuilt is not first
    build_cache(reader, PAPER_RECIPE, out, workers=1, progress=False)  # rebuilt behind its back
    assert ensure_cache(reader, PAPER_RECIPE, out, workers=1, progress=False) is not rebuilt
