"""No record of an evaluation set enters pretraining: CPSC 2018 and LUDB stay out, PTB-XL only through folds 1-8."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ecgjepa_core.study import datasets
from ecgjepa_core.study.datasets import EvaluationRecordsInCorpus, check_corpus_excludes_evaluation
from ecgjepa_core.study.profiles import PROFILES, Source, STUDY_RAW
from ecgjepa_core.study.study import Study


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_keeps_its_evaluation_records_out_of_pretraining(name):
    check_corpus_excludes_evaluation(PROFILES[name]())


def test_an_evaluation_folder_in_the_corpus_is_refused():
    smoke = PROFILES["smoke"]()
    for leak in (Source("ludb", "ludb", "ludb", STUDY_RAW), Source("cpsc", "cpsc2018", "cpsc2018", STUDY_RAW),
                 replace(smoke.ptbxl, name="all_ptbxl")):
        doctored = replace(smoke, pretrain_sources=smoke.pretrain_sources + (leak,))
        with pytest.raises(EvaluationRecordsInCorpus, match=leak.name):
            check_corpus_excludes_evaluation(doctored)
        with pytest.raises(EvaluationRecordsInCorpus):
            datasets.pretraining_corpus(doctored, progress=False)


def test_the_smoke_corpus_holds_no_test_validation_or_evaluation_record(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGJEPA_CACHE", str(tmp_path / "cache"))
    profile = PROFILES["smoke"]()
    corpus, counts = datasets.pretraining_corpus(profile, progress=False)
    assert list(counts["source"]) == ["ptbxl_subset_train", "code15", "chapman_ningbo", "synthetic"]
    evaluated = {(s.reader, profile.path(s).resolve()) for s in (profile.cpsc, profile.ludb)}
    checked_ptbxl = False
    for source, (_, rows) in zip(profile.pretrain_sources, corpus.parts):
        assert (source.reader, profile.path(source).resolve()) not in evaluated
        if source.name == "ptbxl_subset_train":
            folds = datasets.prepare(profile, source, progress=False).records["strat_fold"].to_numpy()
            assert folds[rows].max() <= 8 and (folds > 8).any(), "validation/test folds must exist and stay out"
            checked_ptbxl = True
    assert checked_ptbxl
