"""Readouts of frozen tokens, and how much of the tokens' variance their position explains.

Kim's encoder re-adds the fixed sin-cos positional table before every block (docs/method_kim.md §2), so its
output tokens are mostly position code: the same for every record. Mean-pooling such tokens cancels what
differs between positions and leaves features nearly linear in the time-averaged waveform, so a linear probe
on them can sit at chance for an encoder whose tokens do carry the record (the random-init baseline). Hence
several readouts of the same tokens, each labelled in the tables:

* ``mean``: the mean over tokens (the paper's representation, docs/method_kim.md §8);
* ``stats``: pooled statistics, the mean, the maximum and the standard deviation of every dimension over the
  tokens, concatenated (3·D features): the maximum and the spread keep what mean-pooling averages away;
* the attentive probe (``evaluation.attentive_probe``), a learned query over all tokens.

:class:`PositionShare` measures the share of the token variance (over records and positions) that the
position alone explains: Σ_s ‖μ_s − μ‖² / (Σ_{n,s} ‖t_ns − μ‖² / N), with μ_s the mean token at position s over
the N records and μ the grand mean. 1 means every record yields the same tokens; 0 means position tells nothing.
Shapes: B records, S tokens, D width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ecgjepa_core.progress import progress_bar

READOUTS = {"mean": "mean-pool", "stats": "pooled statistics (mean, max, sd)"}


def pool_tokens(tokens: torch.Tensor, readout: str) -> torch.Tensor:
    """(B, S, D) tokens -> (B, D) (``mean``) or (B, 3·D) (``stats``: mean, max, population sd over S)."""
    if readout == "mean":
        return tokens.mean(dim=1)
    if readout == "stats":
        return torch.cat([tokens.mean(dim=1), tokens.amax(dim=1), tokens.std(dim=1, correction=0)], dim=1)
    raise ValueError(f"unknown readout {readout!r}; choose one of {sorted(READOUTS)}")


class PositionShare:
    """Accumulates (B, S, D) token batches of N records; :attr:`value` is the share of their variance that
    the position s explains (see the module docstring). Float64 sums, so the order of batches does not matter
    beyond rounding."""

    def __init__(self) -> None:
        self.sum_by_position: np.ndarray | None = None  # (S, D)
        self.sum_squares = 0.0
        self.n = 0

    def add(self, tokens: torch.Tensor | np.ndarray) -> None:
        t = np.asarray(tokens, dtype=np.float64)
        if t.ndim != 3:
            raise ValueError(f"tokens must be (B, S, D), got shape {t.shape}")
        sums = t.sum(axis=0)
        if self.sum_by_position is None:
            self.sum_by_position = np.zeros_like(sums)
        elif self.sum_by_position.shape != sums.shape:
            raise ValueError(f"token grid changed: {self.sum_by_position.shape} then {sums.shape}")
        self.sum_by_position += sums
        self.sum_squares += float(np.square(t).sum())
        self.n += len(t)

    @property
    def value(self) -> float:
        if self.sum_by_position is None or self.n < 2:
            raise ValueError("position share needs tokens of at least two records")
        mu_s = self.sum_by_position / self.n                      # (S, D)
        mu = mu_s.mean(axis=0)                                    # (D,)
        n_positions = mu_s.shape[0]
        total = self.sum_squares / self.n - n_positions * float(np.square(mu).sum())   # per record
        between = float(np.square(mu_s - mu).sum())
        return between / total if total > 0 else float("nan")


@torch.no_grad()
def token_readouts(encode: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray | torch.Tensor,
                   readouts: Sequence[str] = tuple(READOUTS), batch_size: int = 32,
                   position_rows: np.ndarray | None = None, keep_tokens: bool = False,
                   progress: bool = False) -> dict[str, np.ndarray | torch.Tensor | float]:
    """Run ``encode`` ((b, L, T) -> (b, S, D) tokens) over the (N, L, T) records ``x`` once and return every
    readout in ``readouts`` as (N, F) float32 arrays; with ``position_rows``, ``position_share`` (float) over those
    records; ``tokens`` (N, S, D) float32 tensor when ``keep_tokens``."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32)) if not torch.is_tensor(x) else x.float()
    in_share = np.zeros(len(x), dtype=bool)
    if position_rows is not None:
        in_share[np.asarray(position_rows)] = True
    share = PositionShare()
    pooled: dict[str, list[torch.Tensor]] = {r: [] for r in readouts}
    kept: torch.Tensor | None = None  # filled in place: concatenating batches would hold the tokens twice
    starts = range(0, len(x), batch_size)
    for start in progress_bar(starts, desc="tokens", disable=not progress):
        tokens = encode(x[start:start + batch_size]).float().cpu()
        for readout in readouts:
            pooled[readout].append(pool_tokens(tokens, readout))
        chosen = in_share[start:start + batch_size]
        if chosen.any():
            share.add(tokens[torch.as_tensor(chosen)].numpy())
        if keep_tokens:
            if kept is None:
                kept = torch.empty((len(x), *tokens.shape[1:]), dtype=tokens.dtype)
            kept[start:start + len(tokens)] = tokens
    out: dict[str, np.ndarray | torch.Tensor | float] = {r: torch.cat(v).numpy() for r, v in pooled.items()}
    if position_rows is not None:
        out["position_share"] = share.value
    if keep_tokens:
        out["tokens"] = kept
    return out
