#!/usr/bin/env python
"""Rehearse the paper and paper-eval profiles on CPU at several data sizes and write how each stage's cost
grows (see ecgjepa_core.scale.rehearsal and docs/scale.md).

    python scripts/rehearse_scale.py --work /data/scale --fractions 0.01,0.03,0.1   # the stages, measured
    python scripts/rehearse_scale.py --report                                       # slopes, projection, figure

``--work`` holds the scale data (``data-<F>``, written by scripts/make_scale_data.py or here) and each size's
caches, runs and results (``run-<F>``, removed and rebuilt); keep it outside the repository (~8 GB at F = 0.1).
The measurements merge into results/scale/scale.json; ``--report`` writes results/scale/growth.csv, growth.md
and the figure results/scale/scale_growth.png from it.
"""

from __future__ import annotations

import sys

from ecgjepa_core.scale.rehearsal import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
