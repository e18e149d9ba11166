"""Configuration dataclasses for the model and the time masks.

Defaults are the paper's configuration (docs/method_kim.md §9), not the authors' constructor
defaults (docs/method_kim.md §6). Configs are plain data: they round-trip through ``asdict`` / ``from_dict``
and travel inside our checkpoints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

AttentionImpl = Literal["reference", "sdpa", "factorised"]
MaskKind = Literal["random", "block"]


@dataclass(frozen=True)
class MaskConfig:
    """Time masking shared by all leads and by every sample of a batch (docs/method_kim.md §5).

    kind: ``random`` masks floor(N·r) random patches, r ~ U(scale); ``block`` takes the union
    of ``n_blocks`` contiguous blocks of floor(N·r) patches each.
    block_start_excludes_last: the authors draw a block start from {0 … N−m−1}, so the last
    patch is never masked; False draws from {0 … N−m}.
    """

    kind: MaskKind = "random"
    scale: tuple[float, float] = (0.6, 0.7)
    n_blocks: int = 4
    block_start_excludes_last: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", tuple(float(s) for s in self.scale))
        if self.kind not in ("random", "block"):
            raise ValueError(f"mask kind must be 'random' or 'block', got {self.kind!r}")
        lo, hi = self.scale
        if not 0.0 <= lo <= hi < 1.0:
            raise ValueError(f"mask scale must satisfy 0 <= lo <= hi < 1, got {self.scale}")


RANDOM_MASK = MaskConfig("random", (0.6, 0.7))
MULTIBLOCK_MASK = MaskConfig("block", (0.175, 0.225))


@dataclass(frozen=True)
class ModelConfig:
    """Student/teacher encoder and predictor (docs/method_kim.md §2–§3, §6).

    Token grid: ``n_leads`` × ``n_patches`` patches of ``patch_size`` samples, lead-major.
    attention: how CroPA attention is computed; all three are exact and tested equal.
    cropa: False gives plain full attention in the encoders (the ablation of Table 6/7).
    teacher_drop_path: the authors run the teacher in train mode, so stochastic depth is
    active in the target encoder during pretraining; False runs the teacher without it.
    centred_targets: not in the paper. Subtract from every target token the batch's mean target at the same
    (lead, time) position, so that the part of the target that position alone predicts carries no loss
    (the encoder re-adds the positional table before every block, and position dominates its tokens).
    """

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 16
    pred_embed_dim: int = 384
    pred_depth: int = 6
    pred_num_heads: int = 12
    mlp_ratio: float = 4.0
    n_leads: int = 8
    n_patches: int = 50
    patch_size: int = 50
    drop_path_rate: float = 0.1
    init_std: float = 0.02
    attention: AttentionImpl = "factorised"
    cropa: bool = True
    teacher_drop_path: bool = True
    centred_targets: bool = False
    mask: MaskConfig = field(default_factory=lambda: RANDOM_MASK)

    def __post_init__(self) -> None:
        if isinstance(self.mask, dict):
            object.__setattr__(self, "mask", MaskConfig(**self.mask))
        for dim, heads, what in ((self.embed_dim, self.num_heads, "encoder"),
                                 (self.pred_embed_dim, self.pred_num_heads, "predictor")):
            if dim % heads:
                raise ValueError(f"{what} width {dim} is not divisible by its {heads} heads")
        if self.embed_dim % 4 or self.pred_embed_dim % 4:
            raise ValueError("widths must be multiples of 4 for the 2-D sin-cos tables")
        if self.attention not in ("reference", "sdpa", "factorised"):
            raise ValueError(f"attention must be reference, sdpa or factorised, got {self.attention!r}")

    @property
    def n_samples(self) -> int:
        """Input length per lead (2500 in the paper)."""
        return self.n_patches * self.patch_size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown ModelConfig fields: {sorted(unknown)}")
        return cls(**d)

    def replace(self, **changes: Any) -> "ModelConfig":
        return ModelConfig.from_dict({**self.to_dict(), **changes})


PAPER_RB = ModelConfig(mask=RANDOM_MASK)
PAPER_MB = ModelConfig(mask=MULTIBLOCK_MASK)
