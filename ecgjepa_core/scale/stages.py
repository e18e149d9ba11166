"""One stage of the paper profile, run alone in this process so that its cost can be measured from outside.

    python -m ecgjepa_core.scale.stages prepare --profile paper --source code15 --out stage.json
    python -m ecgjepa_core.scale.stages {reopen,loader,features,bootstrap} --profile paper ... --out stage.json

* ``prepare``: one source's cache built from its raw folder (index, source fingerprint, records through the recipe);
* ``reopen``: every source's cache found valid again, as each notebook's first use of a dataset does;
* ``loader``: one pretraining epoch of the DataLoader exactly as the pretraining loop builds it, without the model
  (records/s it delivers with ``--workers`` worker processes);
* ``features``: frozen representations of every PTB-XL and CPSC record (``Study.features``) by the given encoder;
* ``bootstrap``: the 95 % CI of one Table-row cell (``classification_cells``) on PTB-XL's test fold with all 71
  statements, ``evaluation.bootstrap`` resamples.

Each writes ``--out``: a small JSON of what it counted (records, its own seconds, sub-steps); the driver
(``scale.rehearsal``) adds wall, CPU, memory and disk from outside.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from ecgjepa_core.data.cache import build_cache
from ecgjepa_core.study import datasets
from ecgjepa_core.study.overrides import apply_overrides, parse_overrides
from ecgjepa_core.study.profiles import Profile, get_profile


def profile_of(name: str, overrides: str) -> Profile:
    return apply_overrides(get_profile(name), parse_overrides(overrides))


def sources(profile: Profile) -> dict:
    """Every source the profile prepares, by name (pretraining corpus, PTB-XL, CPSC, LUDB)."""
    listed = [*profile.pretrain_sources, profile.ptbxl, profile.cpsc, *([profile.ludb] if profile.ludb else [])]
    return {source.name: source for source in listed}


def prepare(profile: Profile, name: str, workers: int | None) -> dict:
    """The cache of source ``name`` built from scratch: the reader's index (timed alone), then ``build_cache``."""
    source = sources(profile)[name]
    reader = datasets.make_reader(profile, source)
    started = time.perf_counter()
    index = reader.index()
    indexed = time.perf_counter() - started
    out = build_cache(reader, source.recipe, datasets.cache_dir(profile, source), workers=workers, progress=False,
                      index=index)
    info = json.loads((out / "info.json").read_text())
    counts = info["counts"]
    return {"records": counts["index"], "kept": counts["kept"], "skipped_by_reason": counts["skipped_by_reason"],
            "workers": info["workers"], "phases_s": {"index": round(indexed, 3), **info["phase_seconds"]},
            "records_per_s": round(counts["index"] / info["phase_seconds"]["records"], 1)}


def reopen(profile: Profile) -> dict:
    phases, records = {}, 0
    for name, source in sources(profile).items():
        started = time.perf_counter()
        cache = datasets.prepare(profile, source, progress=False)
        phases[name] = round(time.perf_counter() - started, 3)
        records += cache.info["counts"]["index"]
    return {"records": records, "phases_s": phases}


def loader(profile: Profile, workers: int, variant: str = "mb", epochs: int = 2) -> dict:
    """Epochs of the pretraining DataLoader (built as ``training.pretrain.pretrain`` builds it) over the corpus,
    without the model: records/s of the first epoch (pages of the cache mapped on first touch) and of the last."""
    from ecgjepa_core.study.study import MB, RB, Study

    study = Study(profile, output_dir="/nonexistent", progress=False)
    corpus, _ = study.corpus(MB if variant == "mb" else RB)
    batch = profile.pretrain.batch_mb if variant == "mb" else profile.pretrain.batch_rb
    sampler = torch.utils.data.DistributedSampler(corpus, num_replicas=1, rank=0, shuffle=True, seed=0)
    data = torch.utils.data.DataLoader(corpus, batch_size=batch, sampler=sampler, num_workers=workers,
                                       persistent_workers=workers > 0)
    rates = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        started, records = time.perf_counter(), 0
        for x in data:
            records += len(x)
        rates.append(round(records / (time.perf_counter() - started), 1))
    return {"records": records * epochs, "corpus": records, "batch": batch, "workers": workers,
            "records_per_s_by_epoch": rates}


def features(profile: Profile, encoders: str) -> dict:
    from ecgjepa_core.study.study import MB, Study

    study = Study(profile, output_dir="/nonexistent", encoders=encoders, progress=False)
    encoder, phases, records = study.encoder(MB), {}, 0
    for data in (study.ptbxl, study.cpsc):
        started = time.perf_counter()
        out = study.features("mb", encoder, data)
        phases[data.name] = round(time.perf_counter() - started, 3)
        records += len(out)
    return {"records": records, "phases_s": phases, "records_per_s": round(records / sum(phases.values()), 1)}


def bootstrap(profile: Profile, seed: int = 0) -> dict:
    """One cell's bootstrap CI at PTB-XL's test size (fold 10), 71 statements, the profile's resamples."""
    from ecgjepa_core.report.results import classification_cells

    test = datasets.ptbxl(profile, progress=False).records["strat_fold"].eq(10).sum()
    rng = np.random.default_rng(seed)
    y = (rng.random((test, 71)) < 0.05).astype(np.int64)
    scores = rng.normal(size=(1, test, 71)) + y  # one seed's scores, informative enough to vary
    started = time.perf_counter()
    cells = classification_cells("multi-label", y, scores, 71, profile.evaluation.bootstrap, seed, "probe seeds")
    seconds = time.perf_counter() - started
    return {"records": int(test), "classes": 71, "resamples": profile.evaluation.bootstrap,
            "bootstrap_s": round(seconds, 3), "auc_ci": [cells[0]["ci_low"], cells[0]["ci_high"]],
            "finite": all(math.isfinite(c["ci_low"]) for c in cells)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=("prepare", "reopen", "loader", "features", "bootstrap"))
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--overrides", default="")
    ap.add_argument("--source", help="prepare: the source's name (chapman_ningbo, code15, ptbxl, cpsc2018, ludb)")
    ap.add_argument("--workers", type=int, default=None, help="prepare: cache-build processes; loader: DataLoader "
                                                              "workers (default 0)")
    ap.add_argument("--encoders", default="", help="features: the -p encoders value (mb is used)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    profile = profile_of(args.profile, args.overrides)
    result = {"prepare": lambda: prepare(profile, args.source, args.workers),
              "reopen": lambda: reopen(profile),
              "loader": lambda: loader(profile, args.workers or 0),
              "features": lambda: features(profile, args.encoders),
              "bootstrap": lambda: bootstrap(profile)}[args.stage]()
    args.out.write_text(json.dumps(result, default=int) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
