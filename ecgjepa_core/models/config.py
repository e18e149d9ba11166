"""Configuration dataclasses for the model and the time masks.

Defaults are the paper's configuration (docs/method_kim.md §9), not the authors' constructor
defaults (docs/method_kim.md §6). Configs are plain data: they round-trip through ``asdict`` / ``from_dict``
and travel inside our checkpoints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from ecgjepa_core.ranges import check_fields, count, divides, number, one_of, pair, positive

AttentionImpl = Literal["reference", "sdpa", "factorised"]
MaskKind = Literal["random", "block"]
TargetKind = Literal["paper", "centred", "standardised"]
TARGET_KINDS = ("paper", "centred", "standardised")
# Sanity limits of a transformer here: the paper's model is 768 wide, 12 blocks, 16 heads.
MAX_WIDTH, MAX_DEPTH, MAX_HEADS = 8192, 64, 128


@dataclass(frozen=True)
class MaskConfig:
    """Time masking shared by all leads and by every sample of a batch (docs/method_kim.md §5).

    kind: ``random`` masks floor(N·r) random patches, r ~ U(scale); ``block`` takes the union
    of ``n_blocks`` contiguous blocks of floor(N·r) patches each.
    block_start_excludes_last: the authors draw a block start from {0 … N−m−1}, so the last
    patch is never masked; False draws from {0 … N−m}.
    """

    kind: MaskKind = field(default="random", metadata=one_of("random", "block"))
    scale: tuple[float, float] = field(default=(0.6, 0.7), metadata=pair(number(0, 1, below=True),
                                                                         number(0, 1, below=True)))
    n_blocks: int = field(default=4, metadata=count(1, 100))
    block_start_excludes_last: bool = True

    def __post_init__(self) -> None:
        check_fields(self)
        object.__setattr__(self, "scale", tuple(float(s) for s in self.scale))
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
    targets: ``paper`` (the layer-normed teacher tokens). Not in the paper: ``centred`` subtracts from every target
    token the batch's mean target at the same (lead, time) position, so that the part of the target that position
    alone predicts carries no loss (the encoder re-adds the positional table before every block, and position
    dominates its tokens); ``standardised`` also divides by the batch's sd there, so that what differs between
    records is the whole target.
    """

    embed_dim: int = field(default=768, metadata=count(4, MAX_WIDTH))
    depth: int = field(default=12, metadata=count(1, MAX_DEPTH))
    num_heads: int = field(default=16, metadata=count(1, MAX_HEADS))
    pred_embed_dim: int = field(default=384, metadata=count(4, MAX_WIDTH))
    pred_depth: int = field(default=6, metadata=count(1, MAX_DEPTH))
    pred_num_heads: int = field(default=12, metadata=count(1, MAX_HEADS))
    mlp_ratio: float = field(default=4.0, metadata=positive(16.0))
    n_leads: int = field(default=8, metadata=count(1, 12))
    n_patches: int = field(default=50, metadata=count(1, 5000))
    patch_size: int = field(default=50, metadata=count(1, 5000))
    drop_path_rate: float = field(default=0.1, metadata=number(0, 1, below=True))
    init_std: float = field(default=0.02, metadata=positive(1.0))
    attention: AttentionImpl = field(default="factorised", metadata=one_of("reference", "sdpa", "factorised"))
    cropa: bool = True
    teacher_drop_path: bool = True
    targets: TargetKind = field(default="paper", metadata=one_of(*TARGET_KINDS))
    mask: MaskConfig = field(default_factory=lambda: RANDOM_MASK)

    def __post_init__(self) -> None:
        if isinstance(self.mask, dict):
            object.__setattr__(self, "mask", MaskConfig(**self.mask))
        check_fields(self)
        divides(self.embed_dim, self.num_heads, "encoder")
        divides(self.pred_embed_dim, self.pred_num_heads, "predictor")
        if self.embed_dim % 4 or self.pred_embed_dim % 4:
            raise ValueError("widths must be multiples of 4 for the 2-D sin-cos tables")

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
