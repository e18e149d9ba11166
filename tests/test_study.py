"""Profile data and study plumbing: no test or validation record is pretrained on; verdicts are honest."""

from __future__ import annotations

from dataclasses import replace


import numpy as np
import pandas as pd
import pytest

from ecgjepa_core.study import datasets
from ecgjepa_core.study.profiles import get_profile
from ecgjepa_core.study.study import MB, RB, Study, Variant, masking_variant


@pytest.fixture
def smoke(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGJEPA_CACHE", str(tmp_path / "cache"))
    return get_profile("smoke")


def test_pretraining_never_sees_ptbxl_folds_9_and_10(smoke):
    source = smoke.pretrain_sources[0]
    cache = datasets.prepare(smoke, source, progress=False)
    rows = datasets.pretrain_rows(smoke, source, cache)
    folds = cache.records["strat_fold"].to_numpy()
    assert len(rows) > 0 and set(folds[rows]) <= set(range(1, 9))
    assert set(np.flatnonzero(folds >= 9)).isdisjoint(rows)


def test_corpus_counts_every_source_and_reads_8_leads(smoke):
    corpus, counts = datasets.pretraining_corpus(smoke, include_synthetic=False, progress=False)
    assert list(counts["source"]) == [s.name for s in smoke.pretrain_sources]
    assert len(corpus) == counts["used_for_pretraining"].sum()
    assert corpus[len(corpus) - 1].shape == (8, 2500)
    assert counts.set_index("source").loc["code15", "skipped_by_reason"] == {"too_short": 3}


def test_labelled_sets_and_splits(smoke):
    ptbxl, cpsc = datasets.ptbxl(smoke, progress=False), datasets.cpsc(smoke, progress=False)
    assert ptbxl.classes == ("CD", "HYP", "MI", "NORM", "STTC") and ptbxl.y.shape == (30, 5)
    split = datasets.ptbxl_splits(smoke, ptbxl)["standard"]
    assert set(ptbxl.records.set_index("record_id").loc[list(split.val), "strat_fold"]) == {9}
    rows = np.array([4, 0, 7])
    np.testing.assert_array_equal(ptbxl.x(rows)[1], ptbxl.signals[0][[0, 1, 6, 7, 8, 9, 10, 11]].astype(np.float32))
    folds = datasets.cpsc_splits(smoke, cpsc)
    assert len(folds) == 2 and "stratified 2-fold" in folds[0].description  # no g7 in the sample
    assert cpsc.class_names[6] == "NSR" and cpsc.y.sum(0).min() >= 1


def test_variant_keys_are_distinct():
    keys = {RB.key, MB.key, Variant(RB.method, RB.mask, cropa=False).key, Variant(RB.method, RB.mask, n_leads=12).key,
            masking_variant("random", (0.3, 0.4)).key, Variant(RB.method, RB.mask, synthetic=False).key}
    assert len(keys) == 6 and RB.key == "rb" and masking_variant("block", (0.175, 0.225)).key == "mb"


def test_paper_profile_refuses_without_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit, match="CUDA"):
        Study("paper")


def test_pretrained_variants_are_every_model_the_tables_use():
    from ecgjepa_core.study.registry import TABLES, pretrained_variants

    study = Study("smoke", progress=False)
    keys = [v.key for v in pretrained_variants(study)]
    # smoke: 2 pretraining seeds of the main runs, ablations at 1 epoch (their own runs, rb / mb included)
    assert len(keys) == len(set(keys)) and keys[:5] == ["rb", "rb-s1", "mb", "mb-s1", "rb-realonly"]
    assert {"rb-1ep", "mb-1ep", "rb-nocropa-1ep", "mb-nocropa-1ep", "rb-12lead-1ep", "rb-0.3-0.4-1ep",
            "mb-0.1-0.15-1ep", "weimann", "weimann-s1"} <= set(keys)
    assert set(keys) == {v.key for spec in TABLES for v in spec.variants(study)}
    # the readouts table: rb with centred targets, each method with its paper's recipe (named by its recipe)
    assert {"rb-centred", "rb-lr2.5e-05-w0.1-ema0.996", "mb-lr5e-05-w0.1-ema0.996",
            "weimann-lr0.001-w0.2-ema0.998"} <= set(keys)


def test_pretraining_seed_and_length_reach_the_run_and_its_folder():
    from ecgjepa_core.study.study import MB, RB

    study = Study("smoke", progress=False)
    seeds = study.main_runs(RB)
    assert [v.seed for v in seeds] == [0, 1] and study.pretrain_config(seeds[1]).seed == study.seed + 1
    short = study.ablation(MB)
    assert short.key == "mb-1ep" and study.pretrain_config(short).epochs == 1 and study.epochs_of(MB) == 2
    fingerprint = "same data"
    folders = {study.run_dir(v, fingerprint) for v in (RB, seeds[1], study.ablation(RB))}
    assert len(folders) == 3  # the seed and the length each change the run folder
    assert "2 epochs, seeds 0/1, lr 0.001, warm-up 1 epoch(s), EMA from 0.996 (" in study.runs_label(seeds)


def test_paper_eval_pretrains_nothing_and_says_so(monkeypatch, tmp_path):
    from ecgjepa_core.study.registry import pretrained_variants
    from ecgjepa_core.study.study import MB

    monkeypatch.setenv("ECGJEPA_DATA", str(tmp_path))
    study = Study("paper-eval", progress=False)
    assert pretrained_variants(study) == [] and not study.can_pretrain
    with pytest.raises(SystemExit, match="evaluates given encoders and does not pretrain"):
        study.encoder(MB)


def test_a_finished_run_is_found_once_per_study(tmp_path, monkeypatch):
    """Notebook 01 asks for each run several times (summary, curves, export): the corpus is prepared once."""
    monkeypatch.setenv("ECGJEPA_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("ECGJEPA_CACHE", str(tmp_path / "cache"))
    study = Study("smoke", tmp_path / "out", progress=False, overrides={"pretrain.epochs": 1})
    rb = replace(RB, recipe=study.default_recipe(RB.method))  # a given recipe: no search first
    run_dir, result = study.pretrained(rb)
    assert result is not None
    calls = []
    real = study.corpus
    monkeypatch.setattr(study, "corpus", lambda v: calls.append(v) or real(v))
    assert study.pretrained(rb) == (run_dir, None) and study.pretrained(rb) == (run_dir, None)
    assert calls == []
    fresh = Study("smoke", tmp_path / "out", progress=False, overrides={"pretrain.epochs": 1})
    assert fresh.pretrained(rb) == (run_dir, None)  # a new study finds the finished folder on disk


def test_pretraining_loads_with_workers_on_a_gpu_only(monkeypatch):
    from ecgjepa_core.study.study import MB, Study, loader_workers

    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert (loader_workers("cuda"), loader_workers("cuda:1"), loader_workers("cpu")) == (4, 4, 0)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert loader_workers("cuda") == 1
    assert Study("smoke", device="cpu").pretrain_config(MB).num_workers == 0
