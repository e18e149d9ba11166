"""Configuration of Weimann & Conrad's ECG-JEPA (arXiv 2410.13867; their code kweimann/ECG-JEPA).

One dataclass holds the architecture, the mask rule and the EMA and optimisation recipe of their
``configs/pretrain/*.yaml``. ``from_authors`` reads the ``config`` dict stored in their checkpoints and
refuses options this implementation does not have (biases, LayerScale) instead of ignoring them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

# Keys of their config that describe data sources or bookkeeping, not the model.
_AUTHORS_IGNORED = ("datasets", "channels", "gradient_accumulation_steps", "checkpoint_interval")
# Options of their code this implementation fixes; a checkpoint with other values is refused.
_AUTHORS_FIXED = {"bias": False, "qkv_bias": False, "layer_scale_eps": 0.0}


@dataclass(frozen=True)
class WeimannConfig:
    # Input: 12 leads (I, II, III, aVR, aVL, aVF, V1–V6) at 500 Hz, one token per patch_size samples.
    num_channels: int = 12
    sampling_frequency: int = 500
    channel_size: int = 5000          # samples of the pretraining input; the position table is this long
    patch_size: int = 25
    # Encoder (ViT-XS by default).
    dim: int = 192
    depth: int = 8
    num_heads: int = 4
    num_registers: int = 1
    mlp_ratio: float = 4.0
    dropout: float = 0.0              # after attention / MLP projections (their fine-tuning uses 0.05)
    attn_dropout: float = 0.0
    norm_eps: float = 1e-6
    # Predictor.
    pred_dim: int = 96
    pred_depth: int = 8
    pred_num_heads: int = 4
    # Masks: one keep ratio per batch, contiguous masked blocks per sample.
    min_block_size: int = 10
    min_keep_ratio: float = 0.15
    max_keep_ratio: float = 0.25
    # EMA momentum, linear over the run.
    encoder_momentum: float = 0.998
    final_encoder_momentum: float = 0.9995
    # Optimisation: AdamW; lr warm-up from 1e-6 then cosine; weight decay cosine rising.
    steps: int = 100_000
    batch_size: int = 2048
    learning_rate: float = 1e-3
    final_learning_rate: float = 1e-6
    learning_rate_warmup_steps: int = 10_000
    weight_decay: float = 0.01
    final_weight_decay: float = 0.1
    opt_betas: tuple[float, float] = (0.9, 0.99)
    opt_eps: float = 1e-6
    gradient_clip: float = 0.0

    def __post_init__(self) -> None:
        if self.channel_size % self.patch_size:
            raise ValueError(f"channel_size {self.channel_size} is not a multiple of patch_size {self.patch_size}")
        for width, heads, name in ((self.dim, self.num_heads, "dim"), (self.pred_dim, self.pred_num_heads, "pred_dim")):
            if width % heads or width % 2:
                raise ValueError(f"{name} {width} must be even and divisible by its {heads} heads")
        if not 0 < self.min_keep_ratio <= self.max_keep_ratio < 1:
            raise ValueError(f"keep ratios must satisfy 0 < {self.min_keep_ratio} <= {self.max_keep_ratio} < 1")
        object.__setattr__(self, "opt_betas", tuple(self.opt_betas))

    @property
    def num_patches(self) -> int:
        """Tokens of a full pretraining input (200 for 10 s at 500 Hz)."""
        return self.channel_size // self.patch_size

    @classmethod
    def xs(cls, **changes: Any) -> "WeimannConfig":
        """ViT-XS: 192 wide, 8 blocks, 4 heads; predictor 96/8/4 (3,600,000 encoder parameters)."""
        return cls(**changes)

    @classmethod
    def s(cls, **changes: Any) -> "WeimannConfig":
        """ViT-S: 384 wide, 8 blocks, 6 heads; predictor 192/8/6 (14,277,888 encoder parameters)."""
        return cls(**{**dict(dim=384, depth=8, num_heads=6, pred_dim=192, pred_depth=8, pred_num_heads=6),
                      **changes})

    @classmethod
    def b(cls, **changes: Any) -> "WeimannConfig":
        """ViT-B: 768 wide, 12 blocks, 12 heads; predictor 384/12/12 (85,185,024 encoder parameters)."""
        return cls(**{**dict(dim=768, depth=12, num_heads=12, pred_dim=384, pred_depth=12, pred_num_heads=12),
                      **changes})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["opt_betas"] = list(self.opt_betas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WeimannConfig":
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown WeimannConfig fields: {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def from_authors(cls, d: dict[str, Any], source: str = "checkpoint") -> "WeimannConfig":
        """The ``config`` dict of their checkpoints (their ``configs.pretrain.Config``) -> ours."""
        for key, value in _AUTHORS_FIXED.items():
            if key in d and d[key] != value:
                raise ValueError(f"{source}: {key}={d[key]!r} is not supported (this implementation has {value!r})")
        ours = {k: v for k, v in d.items() if k not in _AUTHORS_FIXED and k not in _AUTHORS_IGNORED}
        if "channels" in d:
            ours["num_channels"] = len(d["channels"])
        try:
            return cls.from_dict(ours)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{source}: unreadable Weimann config ({err})") from err

    def replace(self, **changes: Any) -> "WeimannConfig":
        return replace(self, **changes)
