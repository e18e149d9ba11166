"""Frozen attentive probe (Weimann & Conrad's "linear" evaluation) for any encoder that yields tokens.

A learned query cross-attends over the frozen encoder's tokens (as many heads as the encoder, no
bias) and projects straight to the classes; only this head trains. Their recipe: AdamW, constant lr
1e-3, weight decay 0.1 on the Linear weights (betas 0.9/0.999), gradient clipping at norm 1, batch
128, 5,000 steps; every ``eval_every`` steps the validation fold's macro AUC is measured and the best
step's head is the one tested. Scores are crop-averaged logits (softmax after averaging for a
single-label task), as in their ``finetune.py``.

The encoder is frozen, so its tokens are computed once per record and crop: ``crop_tokens`` runs it
on crops every ``stride`` samples (or on the whole record when ``size`` is None, e.g. Kim's encoder,
which takes full records only). Training draws one of a record's precomputed crops at random each
time the record is used, so the random training window starts on that grid instead of at any
sample (their ``random_crop``); a finer training stride comes closer at more memory.
Shapes: N records, n crops, S tokens, D width, K classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ecgjepa_core.evaluation.crops import strided_crops
from ecgjepa_core.evaluation.linear_probe import one_intra_op_thread
from ecgjepa_core.evaluation.scoring import (ClassificationResult, EpochEval, Task, build_result, check_task,
                                             evaluate_scores, headline_metric, loss_fn, n_outputs,
                                             scores_from_logits)
from ecgjepa_core.models.attentive_pool import AttentivePooler


@dataclass(frozen=True)
class AttentiveProbeRecipe:
    steps: int = 5000
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0
    eval_every: int = 100

    def to_dict(self) -> dict:
        return asdict(self)


WEIMANN_PROBE = AttentiveProbeRecipe()


@torch.no_grad()
def crop_tokens(encode: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray | torch.Tensor,
                size: int | None, stride: int | None = None, batch_size: int = 64) -> torch.Tensor:
    """(N, C, T) records -> (N, n, S, D) frozen tokens of each record's crops.

    ``encode`` maps (b, C, size) -> (b, S, D) (e.g. a ``WeimannEncoder`` with registers, or Kim's
    ``Encoder``); ``size`` None encodes each whole record (n = 1); ``stride`` defaults to ``size``.
    """
    x = torch.as_tensor(np.asarray(x, dtype=np.float32)) if not torch.is_tensor(x) else x.float()
    crops = x[:, None] if size is None else strided_crops(x, size, stride or size)
    N, n = crops.shape[:2]
    flat = crops.reshape(N * n, *crops.shape[2:])
    tokens = None  # filled in place: concatenating batches would hold the tokens twice
    for i in range(0, N * n, batch_size):
        batch = encode(flat[i:i + batch_size])
        if tokens is None:
            tokens = torch.empty((N * n, *batch.shape[1:]), dtype=batch.dtype)
        tokens[i:i + len(batch)] = batch
    return tokens.reshape(N, n, *tokens.shape[1:])


class TokenRows:
    """Some records of a (N, n, S, D) token tensor, gathered batch by batch instead of copied: a probe's train,
    validation and test parts of one table's tokens then hold no second copy of them (at the paper's width the
    tokens of every PTB-XL record are 27 GB). Indexing, ``len``, ``shape`` and ``ndim`` behave as on the copy
    ``tokens[rows]`` would."""

    def __init__(self, tokens: torch.Tensor, rows: np.ndarray | torch.Tensor):
        self.tokens, self.rows = tokens, torch.as_tensor(np.asarray(rows), dtype=torch.long)
        self.shape = torch.Size((len(self.rows), *tokens.shape[1:]))
        self.ndim = tokens.ndim

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key):
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        return self.tokens[(self.rows[first], *rest)]


def _decay_groups(head: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on Linear weights only (their ``get_optimizer``)."""
    decay = [m.weight for m in head.modules() if isinstance(m, nn.Linear)]
    ids = {id(p) for p in decay}
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": [p for p in head.parameters() if id(p) not in ids], "weight_decay": 0.0}]


@torch.no_grad()
def _averaged_logits(head: nn.Module, tokens: torch.Tensor | TokenRows, batch_size: int = 256) -> np.ndarray:
    """(N, n, S, D) -> (N, K) crop-averaged logits, float64."""
    head.eval()
    N, n = tokens.shape[:2]
    flat = torch.arange(N * n)
    # the same batches of crops as over tokens.reshape(N * n, S, D), gathered by (record, crop)
    logits = torch.cat([head(tokens[flat[i:i + batch_size] // n, flat[i:i + batch_size] % n])
                        for i in range(0, N * n, batch_size)])
    head.train()
    return logits.reshape(N, n, -1).mean(dim=1).double().numpy()


def attentive_probe(train_tokens: torch.Tensor | TokenRows, train_y: np.ndarray,
                    val_tokens: torch.Tensor | TokenRows, val_y: np.ndarray,
                    test_tokens: torch.Tensor | TokenRows, test_y: np.ndarray, task: Task, num_heads: int,
                    recipe: AttentiveProbeRecipe = WEIMANN_PROBE, seed: int = 0, n_classes: int | None = None,
                    n_boot: int = 1000, split: str = "", encoder_desc: str = "") -> ClassificationResult:
    """Train an attentive head on frozen (N, n, S, D) crop tokens (from :func:`crop_tokens`; or
    :class:`TokenRows` of them).

    Targets: (N, K) multi-hot for ``multilabel``, (N,) class indices for ``multiclass``. The head is
    tested at the evaluation with the best validation headline metric (the first such on ties).
    """
    train_y, val_y, test_y = (np.asarray(y) for y in (train_y, val_y, test_y))
    for y in (train_y, val_y, test_y):
        check_task(task, y)
    for name, tokens, y in (("train", train_tokens, train_y), ("val", val_tokens, val_y),
                            ("test", test_tokens, test_y)):
        if tokens.ndim != 4 or len(tokens) != len(y) or len(y) == 0:
            raise ValueError(f"{name}: tokens must be (N, n, S, D) for N = {len(y)} > 0 records, "
                             f"got {tuple(tokens.shape)}")
    gen = torch.Generator().manual_seed(seed)
    n_out = n_classes or n_outputs(task, train_y, val_y, test_y)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = AttentivePooler(train_tokens.shape[-1], num_heads, n_out)
    opt = torch.optim.AdamW(_decay_groups(head, recipe.weight_decay), lr=recipe.lr, betas=recipe.betas)
    loss = loss_fn(task)
    y_train = torch.as_tensor(train_y)
    N, n_crops = train_tokens.shape[:2]
    bs = min(recipe.batch_size, N)
    order, cursor = torch.randperm(N, generator=gen), 0
    history: list[EpochEval] = []
    running, key, best = 0.0, headline_metric(task), (float("-inf"), None)
    with one_intra_op_thread():   # batches of a few thousand tokens: extra threads only add contention
        for step in range(1, recipe.steps + 1):
            if cursor + bs > N:      # a new pass over the records; the incomplete last batch is dropped
                order, cursor = torch.randperm(N, generator=gen), 0
            idx = order[cursor:cursor + bs]
            cursor += bs
            crop = torch.randint(0, n_crops, (bs,), generator=gen)
            batch_loss = loss(head(train_tokens[idx, crop]), y_train[idx])
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            if recipe.grad_clip > 0:
                nn.utils.clip_grad_norm_(head.parameters(), recipe.grad_clip)
            opt.step()
            running += batch_loss.item()
            if step % recipe.eval_every == 0 or step == recipe.steps:
                test_scores = scores_from_logits(task, _averaged_logits(head, test_tokens))
                val_scores = scores_from_logits(task, _averaged_logits(head, val_tokens))
                n_since = step - (history[-1].epoch if history else 0)
                history.append(EpochEval(step, running / n_since, evaluate_scores(task, test_y, test_scores),
                                         test_scores, evaluate_scores(task, val_y, val_scores)))
                running = 0.0
                score = history[-1].val[key]
                score = score if not np.isnan(score) else float("-inf")  # an unscorable validation set ranks last
                if best[1] is None or score > best[0]:
                    best = (score, {k: v.clone() for k, v in head.state_dict().items()})
    protocol = {
        "protocol": "frozen attentive probe (one learned query, cross-attention, no bias)", "encoder": encoder_desc,
        "task": task, "optimiser": f"AdamW lr {recipe.lr} constant, wd {recipe.weight_decay} on Linear weights, "
                                   f"betas {tuple(recipe.betas)}, grad clip {recipe.grad_clip}",
        "batch": bs, "steps": recipe.steps, "eval_every": recipe.eval_every,
        "head": f"AttentivePooler({train_tokens.shape[-1]}, {num_heads} heads → {n_out})",
        "crops": f"{n_crops} per training record, {val_tokens.shape[1]} averaged at evaluation",
        "checkpoint": f"best validation {headline_metric(task)}", "seed": seed,
        "n_train": len(train_y), "n_val": len(val_y), "n_test": len(test_y), "split": split,
    }
    result = build_result(task, history, test_y, "val", protocol, n_boot, seed)
    head.load_state_dict(best[1])
    result.model = head.eval()   # the tested head: the best validation evaluation
    return result
