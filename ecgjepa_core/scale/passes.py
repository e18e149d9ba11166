"""How many records each table of a series sends through Kim's encoder: the model arithmetic of ``paper-eval``.

    python -m ecgjepa_core.scale.passes --profile paper-eval --encoders rb=…,mb=… --out passes.json

Every table of the registry is built in this process (``registry.publish``, as its notebook does), and notebook
01's embedding features are computed, while a hook on ``Encoder.forward`` counts the records it encodes, in units
of a full 8-lead record (a lead-II input has 50 of its 400 tokens and counts 1/8), separately with and without
gradients (fine-tuning, which also runs backward, against feature extraction). A second hook counts the attentive
probe's (Table 9) training steps and the records its evaluations read. The counts depend on the data size and the
evaluation plan, not on the encoder's width, so a tiny encoder counts what the paper's does; divided by the
paper-size throughputs (``python -m ecgjepa_core.bench`` for the encoder, :func:`attentive_seconds` for the
probe's head) they give the series' model arithmetic.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import torch

from ecgjepa_core.evaluation import segmentation
from ecgjepa_core.evaluation.linear_probe import one_intra_op_thread
from ecgjepa_core.models.attentive_pool import AttentivePooler
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.study.registry import TABLES, publish
from ecgjepa_core.study.study import MB, Study

FULL_TOKENS = 400  # 8 leads x 50 patches: the unit of one record


def count_encoder_records(build) -> dict[str, float]:
    """Full-record equivalents ``build()`` sends through any ``Encoder`` (``inference``, ``training``), and the
    attentive heads' training steps (``probe_steps``) and evaluated records (``probe_inference``). Table 10's
    runs stay in this process while counting (its worker processes would count for themselves)."""
    counts: Counter = Counter()
    encoder_forward, pooler_forward = Encoder.forward, AttentivePooler.forward
    spread = segmentation.run_all

    def encoder(self, x, leads=None, visible=None):
        n_leads = self.cfg.n_leads if leads is None else len(leads)
        n_time = self.cfg.n_patches if visible is None else int(visible.sum())
        counts["training" if torch.is_grad_enabled() else "inference"] += x.shape[0] * n_leads * n_time / FULL_TOKENS
        return encoder_forward(self, x, leads, visible)

    def pooler(self, tokens):
        counts["probe_steps" if torch.is_grad_enabled() else "probe_inference"] += (
            1 if torch.is_grad_enabled() else tokens.shape[0])
        return pooler_forward(self, tokens)

    Encoder.forward, AttentivePooler.forward = encoder, pooler
    segmentation.run_all = lambda jobs, data, split, config, workers=1: spread(jobs, data, split, config, 1)
    try:
        build()
    finally:
        Encoder.forward, AttentivePooler.forward = encoder_forward, pooler_forward
        segmentation.run_all = spread
    return {k: round(counts[k], 1) for k in ("inference", "training", "probe_steps", "probe_inference")}


def attentive_seconds(width: int = 768, heads: int = 16, batch: int = 128, classes: int = 5, repeats: int = 3
                      ) -> dict[str, float]:
    """CPU seconds of one training step of the attentive probe's head on (batch, 400, width) tokens (forward,
    backward, AdamW) and of evaluating one record, at the paper's width, here, in one thread as
    ``attentive_probe`` runs it."""
    torch.manual_seed(0)
    head = AttentivePooler(width, heads, classes)
    opt = torch.optim.AdamW(head.parameters())
    tokens, y = torch.randn(batch, FULL_TOKENS, width), torch.rand(batch, classes)
    loss = torch.nn.BCEWithLogitsLoss()

    def step():
        opt.zero_grad()
        loss(head(tokens), y).backward()
        opt.step()

    with one_intra_op_thread():
        step()
        started = time.process_time()
        for _ in range(repeats):
            step()
        train = (time.process_time() - started) / repeats
        with torch.no_grad():
            started = time.process_time()
            for _ in range(repeats):
                head(tokens)
        record = (time.process_time() - started) / repeats / batch
        threads = torch.get_num_threads()
    return {"train_step_s": round(train, 3), "record_s": round(record, 5), "threads": threads, "width": width,
            "batch": batch}


def series_passes(study: Study, only: tuple[str, ...] = ()) -> dict[str, dict]:
    """Per notebook (those whose number is in ``only``, else all): encoder records (inference, training) and its
    seconds here."""
    out = {}
    steps = [("01_pretrain", lambda: study.features("mb", study.encoder(MB), study.ptbxl))]
    steps += [(spec.notebook, lambda spec=spec: publish(study, spec.name)) for spec in TABLES]
    for notebook, build in steps:
        if only and notebook[:2] not in only:
            continue
        started = time.perf_counter()
        out[notebook] = count_encoder_records(build) | {"seconds": round(time.perf_counter() - started, 1)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="paper-eval")
    ap.add_argument("--encoders", default="")
    ap.add_argument("--overrides", default="")
    ap.add_argument("--results", type=Path, required=True, help="where the tables are written (a scratch folder)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--head-only", action="store_true", help="only time the attentive head at paper width and add "
                                                              "it to an existing --out")
    ap.add_argument("--only", help="count only these notebooks (comma-separated numbers, e.g. 03,11) and replace "
                                   "their entries in an existing --out, e.g. with the paper's training epochs")
    args = ap.parse_args(argv)
    if args.head_only:
        record = json.loads(args.out.read_text())
        args.out.write_text(json.dumps({**record, "attentive_head": attentive_seconds()}, indent=1) + "\n")
        return 0
    study = Study(args.profile, args.results, encoders=args.encoders, overrides=args.overrides, progress=False)
    if args.only:
        only = tuple(n.strip() for n in args.only.split(","))
        record = json.loads(args.out.read_text())
        record["notebooks"] |= series_passes(study, only)
        record["recounted"] = {"notebooks": list(only), "overrides": args.overrides}
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        return 0
    passes = series_passes(study)
    args.out.write_text(json.dumps({"profile": args.profile, "overrides": args.overrides,
                                    "ptbxl_records": len(study.ptbxl.records), "cpsc_records": len(study.cpsc.records),
                                    "notebooks": passes, "attentive_head": attentive_seconds()}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
