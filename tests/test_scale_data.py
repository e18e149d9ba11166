"""Scale data (scripts/make_scale_data.py) in the official layouts, read back by the readers and the paper profile."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.data import ChapmanNingboReader, Code15Reader, Cpsc2018Reader, PtbxlReader
from ecgjepa_core.data.labels import CPSC2018_CODES
from ecgjepa_core.data.wfdb_io import read_header
from ecgjepa_core.paths import REPO_ROOT, SAMPLE_DIR
from ecgjepa_core.scale.scaled_data import CODE15_PARTS, MINIMUM, counts, make_scale_data

TINY = 1e-5  # every dataset at its minimum count


@pytest.fixture(scope="module")
def scale_root(tmp_path_factory):
    out = tmp_path_factory.mktemp("scale") / "data"
    done = subprocess.run([sys.executable, "scripts/make_scale_data.py", "--fraction", str(TINY), "--out", str(out),
                           "--source", str(SAMPLE_DIR)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def _digest(folder) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SCALE_DATA.json"):
        h.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return h.hexdigest()


def test_counts_scale_with_the_fraction():
    assert counts(0.1) == {"ptbxl": 2180, "cpsc2018": 688, "chapman_ningbo": 4515, "code15": 34578}
    assert counts(1.0)["code15"] == 345_779 and counts(TINY) == MINIMUM
    with pytest.raises(ValueError, match="fraction"):
        counts(0)


def test_ptbxl_in_the_official_layout(scale_root):
    reader = PtbxlReader(scale_root / "ptbxl")
    index = reader.index()
    assert len(index) == MINIMUM["ptbxl"] and not index.attrs["left_out"]
    assert sorted(index["strat_fold"].unique()) == list(range(1, 11))
    database = pd.read_csv(scale_root / "ptbxl" / "ptbxl_database.csv")
    official = pd.read_csv(SAMPLE_DIR / "ptbxl" / "ptbxl_database.csv", nrows=0).columns
    assert list(database.columns) == list(official)
    assert index[["CD", "HYP", "MI", "NORM", "STTC"]].sum(1).ge(0).all() and index["NORM"].any()
    first = index.iloc[0]
    assert first["filename"] == f"records500/{first['ecg_id'] // 1000 * 1000:05d}/{first['ecg_id']:05d}_hr"
    header = read_header(scale_root / "ptbxl" / first["filename"])
    assert header.fmt == ["16"] * 12 and header.fs == 500 and header.sig_len == 5000
    high, low = reader.read(first["record_id"]), PtbxlReader(scale_root / "ptbxl", sampling_rate=100).read(
        first["record_id"])
    assert high.signal.shape == (12, 5000) and low.signal.shape == (12, 1000)
    assert 0.1 < np.abs(high.signal).max() < 20  # mV, as a real ECG
    assert np.corrcoef(high.signal[1, ::5], low.signal[1])[0, 1] > 0.9  # records100 is records500 decimated


def test_cpsc_chapman_and_code15_in_their_layouts(scale_root):
    cpsc = Cpsc2018Reader(scale_root / "cpsc2018").index()
    assert len(cpsc) == MINIMUM["cpsc2018"] and sorted(cpsc["folder"].unique()) == [f"g{k}" for k in range(1, 8)]
    assert set(",".join(cpsc["dx"]).split(",")) <= set(CPSC2018_CODES)
    assert cpsc["n_samples"].between(3000, 30000).all()

    chapman = ChapmanNingboReader(scale_root / "chapman_ningbo")
    index = chapman.index()
    assert len(index) == MINIMUM["chapman_ningbo"] and index["subfolder"].str.fullmatch(r"\d\d/\d\d\d").all()
    assert chapman.read(index["record_id"].iloc[0]).signal.shape == (12, 5000)

    parts = sorted((scale_root / "code15").glob("exams_part*.hdf5"))
    assert len(parts) == CODE15_PARTS
    every = Code15Reader(scale_root / "code15", mode="strip_padding").index()
    kept = Code15Reader(scale_root / "code15", mode="paper").index()
    assert len(every) == MINIMUM["code15"] and 0 < len(kept) < len(every)  # padded exams fail the paper's rule
    lengths = {Code15Reader(scale_root / "code15", mode="strip_padding").read(rid).signal.shape[1]
               for rid in every["record_id"]}
    assert lengths == {4096, 2934}


def test_deterministic_from_the_seed(scale_root, tmp_path):
    again = make_scale_data(tmp_path / "again", TINY, seed=0, source=SAMPLE_DIR)
    assert _digest(tmp_path / "again") == _digest(scale_root)
    first = json.loads((scale_root / "SCALE_DATA.json").read_text())
    assert {k: v["records"] for k, v in again["datasets"].items()} == {
        k: v["records"] for k, v in first["datasets"].items()}
    make_scale_data(tmp_path / "other", TINY, seed=1, source=SAMPLE_DIR, datasets=("ptbxl",))
    assert (tmp_path / "other" / "ptbxl" / "ptbxl_database.csv").read_bytes() != (
        scale_root / "ptbxl" / "ptbxl_database.csv").read_bytes()


def test_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not written by make_scale_data"):
        make_scale_data(tmp_path, TINY, source=SAMPLE_DIR, datasets=("ptbxl",))
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_paper_profile_prepares_every_source(scale_root, tmp_path, monkeypatch):
    from ecgjepa_core.study import datasets
    from ecgjepa_core.study.profiles import paper, paper_eval

    monkeypatch.setenv("ECGJEPA_DATA", str(scale_root))
    monkeypatch.setenv("ECGJEPA_CACHE", str(tmp_path / "cache"))
    profile = paper()
    assert profile.data_root == scale_root and paper_eval().data_root == scale_root
    corpus, table = datasets.pretraining_corpus(profile, progress=False)
    used = dict(zip(table["source"], table["used_for_pretraining"]))
    assert used["chapman_ningbo"] >= MINIMUM["chapman_ningbo"] - 2 and 0 < used["code15"] < MINIMUM["code15"]
    assert len(corpus) == sum(used.values()) and corpus[0].shape == (8, 2500)
    assert len(datasets.ptbxl(profile, progress=False).records) == MINIMUM["ptbxl"]
    cpsc = datasets.cpsc(profile, progress=False)
    assert len(cpsc.records) == MINIMUM["cpsc2018"] - (Cpsc2018Reader(scale_root / "cpsc2018").index()[
        "skip_reason"] == "too_short").sum()
    [split] = datasets.cpsc_splits(profile, cpsc)  # g7 present: the paper's split, not k-fold
    assert len(split.test) == (cpsc.records["folder"] == "g7").sum() > 0


@pytest.mark.slow
def test_the_rehearsal_stages_run_on_scale_data(scale_root, tmp_path):
    """Each measured stage of the rehearsal runs alone on scale data and says what it counted."""
    env = {**__import__("os").environ, "ECGJEPA_DATA": str(scale_root), "ECGJEPA_CACHE": str(tmp_path / "cache"),
           "ECGJEPA_ALLOW_CPU": "1"}
    tiny = json.dumps({"evaluation.bootstrap": 50})

    def stage(*args):
        out = tmp_path / "stage.json"
        done = subprocess.run([sys.executable, "-m", "ecgjepa_core.scale.stages", *args, "--overrides", tiny,
                               "--out", str(out)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(out.read_text())

    prepared = stage("prepare", "--source", "code15", "--workers", "1")
    assert 0 < prepared["kept"] == prepared["records"] < MINIMUM["code15"]  # the paper's rule acts in the index
    assert set(prepared["phases_s"]) == {"index", "index_and_fingerprint", "records"}
    for source in ("chapman_ningbo", "ptbxl", "cpsc2018", "ludb"):
        stage("prepare", "--source", source, "--workers", "1")
    reopened = stage("reopen")
    assert set(reopened["phases_s"]) == {"chapman_ningbo", "code15", "ptbxl", "cpsc2018", "ludb"}
    loaded = stage("loader")
    assert loaded["records"] == 2 * loaded["corpus"] > 0 and len(loaded["records_per_s_by_epoch"]) == 2
    boot = stage("bootstrap")
    assert boot["records"] == 2 and boot["resamples"] == 50  # PTB-XL fold 10 at the minimum count
