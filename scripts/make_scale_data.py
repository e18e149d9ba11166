#!/usr/bin/env python
"""Write PTB-XL, CPSC 2018, Chapman–Ningbo and CODE-15 at a fraction of their real sizes, in their official
layouts, derived from real records (see ecgjepa_core.scale.scaled_data); for rehearsing the paper profile.

    python scripts/make_scale_data.py --fraction 0.1 --out /data/scale-0.1 [--seed 0] [--source ../shared/data]

Then ``ECGJEPA_DATA=/data/scale-0.1`` points the ``paper`` and ``paper-eval`` profiles at it. The data measure
cost only: never report a result computed on them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ecgjepa_core.scale.scaled_data import WRITERS, default_source, make_scale_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, required=True, help="share of the real record counts, in (0, 1]")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (empty, or written by this script)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=None,
                        help=f"real records to derive from (default: {default_source()})")
    parser.add_argument("--datasets", default=",".join(WRITERS), help="comma-separated subset of %(default)s")
    args = parser.parse_args(argv)
    record = make_scale_data(args.out, args.fraction, args.seed, args.source, tuple(args.datasets.split(",")))
    print(json.dumps(record["datasets"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
