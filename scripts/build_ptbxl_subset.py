#!/usr/bin/env python
"""Rebuild ptbxl_subset from an official PTB-XL download (see ecgjepa_core.data.ptbxl_subset).

    python scripts/build_ptbxl_subset.py --ptbxl ~/data/ptbxl --out ~/data/ptbxl_subset

``--ptbxl``: the PTB-XL folder (``ptbxl_database.csv``, ``scp_statements.csv``, ``records500/``), e.g.
as fetched by ``python -m ecgjepa_core.data.download ptbxl --dest DIR``. ``--ids`` picks another list
(default ``data/ptbxl_subset_ids.csv``, 1,819 records).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecgjepa_core.data.ptbxl_subset import SUBSET_IDS_PATH, build_subset, read_subset_ids, write_subset
from ecgjepa_core.data.records import DatasetError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptbxl", type=Path, required=True, help="official PTB-XL folder")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the subset into")
    parser.add_argument("--ids", type=Path, default=SUBSET_IDS_PATH, help="ecg_id, strat_fold list (%(default)s)")
    args = parser.parse_args(argv)
    try:
        signals, records, statements = build_subset(args.ptbxl, read_subset_ids(args.ids))
    except DatasetError as err:
        print(f"build_ptbxl_subset: {err}", file=sys.stderr)
        return 1
    out = write_subset(args.out, signals, records, statements)
    print(f"wrote {len(records)} records, signals {signals.shape} {signals.dtype}, to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
