"""Pretrain one variant of a profile outside the notebooks: ``python -m ecgjepa_core.pretrain``.

It writes exactly the run folder the notebooks find and reuse (``runs/<profile>/<key>-<hash>``,
through :meth:`Study.pretrained`), so a long pretraining can run on several GPUs first and the
table notebooks afterwards only evaluate. Under ``torchrun`` every process runs this module; the
loop trains with DistributedDataParallel, rank 0 prepares the data caches, writes the files and
reports progress on stderr. The run folder's path goes to stdout (rank 0).

    python -m ecgjepa_core.pretrain --profile smoke --variant mb
    torchrun --nproc_per_node 8 -m ecgjepa_core.pretrain --profile paper --variant mb \\
        -p overrides '{"pretrain.epochs": 50}'

``-p`` takes the same ``overrides`` and ``seed`` values as ``run_all.sh -p`` (pass them identically,
or the notebooks look for another run folder). Across nodes, ``runs/`` (``ECGJEPA_RUNS``), the
caches (``ECGJEPA_CACHE``) and the data must be on a filesystem every node sees.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from dataclasses import replace
from typing import Any

import torch
import torch.distributed as dist

from ecgjepa_core.study.overrides import OverrideError
from ecgjepa_core.study.profiles import PROFILES, get_profile
from ecgjepa_core.study.study import Study, Variant
from ecgjepa_core.study.registry import pretrained_variants
from ecgjepa_core.training.precision import autocast_for
from ecgjepa_core.training.pretrain import resolve_device

# The notebook parameters that decide which run folder a variant gets (besides the profile).
RUN_PARAMETERS = ("overrides", "seed")


def _parameters(pairs: list[list[str]], seed: int) -> dict[str, Any]:
    """``-p KEY VALUE`` pairs (``overrides`` as JSON/YAML text, ``seed`` as an integer) -> ``{key: value}``."""
    params: dict[str, Any] = {"overrides": None, "seed": seed}
    for key, value in pairs:
        if key not in RUN_PARAMETERS:
            raise SystemExit(f"-p {key}: not a pretraining parameter; use one of {', '.join(RUN_PARAMETERS)}")
        try:
            params[key] = int(value) if key == "seed" else value
        except ValueError:
            raise SystemExit(f"-p seed {value!r}: expected an integer") from None
    return params


def variant_keys(profile: str) -> list[str]:
    """The run keys ``--variant`` takes for ``profile`` (its pretraining runs in table order; empty where it does
    not pretrain), derived from the profile without a device or data."""
    listing = replace(get_profile(profile), requires_gpu=False)  # naming the runs needs no GPU
    return [v.key for v in pretrained_variants(Study(listing, progress=False))]


def _variants_help() -> str:
    lines = [textwrap.fill(", ".join(keys) if (keys := variant_keys(name)) else "(none: it evaluates given encoders)",
                           100, initial_indent=f"  {name}: ", subsequent_indent=" " * 6, break_on_hyphens=False)
             for name in PROFILES]
    return "--variant keys by profile (without overrides):\n" + "\n".join(lines)


def find_variant(study: Study, key: str) -> Variant:
    """The variant of ``study`` named ``key`` (``rb``, ``mb``, ``rb-nocropa``, …), or a clear SystemExit."""
    variants = {v.key: v for v in pretrained_variants(study)}
    if not variants:
        raise SystemExit(f"profile {study.profile.name!r} does not pretrain (it evaluates given encoders)")
    if key not in variants:
        raise SystemExit(f"unknown variant {key!r} for profile {study.profile.name!r}; "
                         f"valid keys: {', '.join(variants)}")
    return variants[key]


def _check_precision(study: Study) -> None:
    """Fail before any data is read when the profile's precision cannot run on the chosen device."""
    precision = study.profile.pretrain.precision
    try:
        autocast_for(precision, torch.device(study.device))
    except ValueError as err:
        raise SystemExit(f"profile {study.profile.name!r} pretrains in {precision}: {err} "
                         "(e.g. -p overrides '{\"pretrain.precision\": \"fp32\"}')") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ecgjepa_core.pretrain", description=__doc__.splitlines()[0],
                                 epilog=_variants_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="smoke", choices=sorted(PROFILES))
    ap.add_argument("--variant", required=True, help="which pretrained model: a run key of the profile, listed below "
                                                     "(e.g. rb, mb)")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                    help="overrides (dotted keys as JSON/YAML) or seed, as given to run_all.sh")
    ap.add_argument("--seed", type=int, default=0, help="pretraining seed (as the notebooks' seed)")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda (under torchrun: cuda:LOCAL_RANK)")
    args = ap.parse_args(argv)
    params = _parameters(args.parameter, args.seed)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    try:
        study = Study(args.profile, seed=params["seed"], overrides=params["overrides"], device=args.device,
                      progress=rank == 0)
    except OverrideError as err:
        raise SystemExit(f"-p overrides: {err}") from None
    variant = find_variant(study, args.variant)
    _check_precision(study)

    started = world > 1 and not dist.is_initialized()
    if started:
        device = resolve_device(study.device, int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        if world > 1:
            # Rank 0 builds any missing data cache alone; the others then only read it.
            if rank == 0:
                study.corpus(variant)
            dist.barrier()
        run_dir, result = study.pretrained(variant)
        if world > 1:
            dist.barrier()  # the summary is written before any process reports or exits
    finally:
        if started:
            dist.destroy_process_group()
    if rank == 0:
        if result is None:
            print(f"{variant.key}: run already complete, reused", file=sys.stderr)
        else:
            print(f"{variant.key}: {result.steps} steps over {world} process(es), final loss "
                  f"{result.final_loss:.4f}, {result.wall_time_s:.0f} s", file=sys.stderr)
        print(run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
