"""The main rows' encoders copied beside the results, so a reader can re-evaluate without pretraining.

``results/<profile>/encoders/<key>.pt`` holds the final encoder of the first pretraining seed of each main
row (``rb``, ``mb``, ``weimann``): Kim's as this project's checkpoint (its configuration inside), Weimann's as
their minified encoder format. ``encoders/README.md`` lists each file's SHA-256 and the ``-p encoders`` value
that puts them back in every table.
"""

from __future__ import annotations

import json

import pandas as pd

from ecgjepa_core.checkpoint import atomic_copy
from ecgjepa_core.study.encoders import EncoderSource
from ecgjepa_core.study.study import Study, Variant
from ecgjepa_core.training.pretrain import encoder_file

FOLDER = "encoders"


def export_encoders(study: Study, variants: list[Variant]) -> pd.DataFrame:
    """Copy the final encoder of each run of ``variants`` (the main rows' first seeds, pretrained here) to
    ``<output_dir>/encoders/<key>.pt``.

    Returns one row per file (row, file, bytes, sha256, source run); writes ``encoders/README.md``.
    """
    folder = study.output_dir / FOLDER
    table = []
    for variant in variants:
        run_dir, _ = study.pretrained(variant)
        dest = atomic_copy(run_dir / encoder_file(study.epochs_of(variant)), folder / f"{variant.key}.pt")
        table.append({"row": variant.key, "file": f"{FOLDER}/{dest.name}", "bytes": dest.stat().st_size,
                      "sha256": EncoderSource(variant.key, dest).sha256,  # as the tables will name the file
                      "pretraining": study.encoder_label(variant, pretrained_here=True), "run": run_dir.name})
    frame = pd.DataFrame(table, columns=["row", "file", "bytes", "sha256", "pretraining", "run"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(_readme(study, frame))
    return frame


def _readme(study: Study, frame: pd.DataFrame) -> str:
    name = study.profile.name
    relative = {row.row: f"results/{name}/{row.file}" for row in frame.itertuples()}
    return "\n".join([
        f"# Encoders of the {name} profile's main rows",
        "",
        "The final encoder of pretraining seed 0 of each main row, copied from its run folder by notebook 01 "
        "(Kim's rows: this project's checkpoint, configuration inside; Weimann's: their minified encoder format, "
        "target encoder). Re-evaluate every table on them without pretraining:",
        "",
        "```bash",
        f"./run_all.sh --profile {name} --only 00,02,03,04,05,06,10,11,12,13 --results results/{name}-reeval \\",
        f"  -p encoders '{json.dumps(relative)}'",
        "```",
        "",
        "Rows computed from a file are labelled with its name and SHA-256, and they stand for one pretraining seed: "
        "the committed tables pool all the profile's seeds, so their intervals are wider than a one-file rerun's.",
        "",
        frame.to_markdown(index=False),
        "",
    ])
