"""Named profiles: which data, which model size, how much training, which evaluations.

* ``smoke``: the real sample shipped in ``data/sample`` + a few synthetic ECGs, a tiny model, a
  couple of epochs; offline, CPU, minutes. Every table is produced at toy scale.
* ``cpu-study``: the real data in ``../shared/data`` (PTB-XL subset, CODE-15, Chapman–Ningbo,
  CPSC g1, LUDB) + synthetic ECGs, a small model sized for 2 CPU cores.
* ``paper``: full datasets in the official layouts under ``data_root`` and the paper's
  configuration (docs/method_kim.md §9); needs one CUDA GPU.

The smoke and cpu-study inputs all pass through the recipe of ``ptbxl_subset`` (band-pass
0.5–40 Hz + per-lead z-score), because that subset, the only labelled PTB-XL data at scale here,
is stored that way; the paper feeds raw millivolts. Tables and the report state this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ecgjepa_core.models.config import MAX_DEPTH, MAX_HEADS, MAX_WIDTH, MaskConfig, ModelConfig
from ecgjepa_core.data.preprocess import Recipe
from ecgjepa_core.data.ptbxl_tasks import WEIMANN_TASKS
from ecgjepa_core.evaluation.recipes import PROBE_RECIPES
from ecgjepa_core.paths import REPO_ROOT, SAMPLE_DIR, shared_dir
from ecgjepa_core.ranges import check_fields, count, divides, list_of, number, one_of, optional, pair, positive

# Sanity limits of the training fields (an lr above this diverges; counts above these are typing errors).
MAX_EPOCHS, MAX_BATCH, MAX_STEPS, MAX_LR, MAX_SEED = 100_000, 65_536, 10_000_000, 10.0, 2**31 - 1
READERS = ("ptbxl", "cpsc2018", "chapman_ningbo", "code15", "ludb", "arrays", "synthetic")

# Caches hold 12 leads so that the 12-lead model (Table 8) reads the same cache; the 8-lead
# model takes rows I, II, V1–V6 of it.
LEADS_8_OF_12 = (0, 1, 6, 7, 8, 9, 10, 11)

STUDY_RAW = Recipe(leads=12, bandpass=(0.5, 40.0), zscore=True, invalid_rule=True)
STUDY_ARRAYS = Recipe(leads=12, invalid_rule=False)  # ptbxl_subset rows are already prepared
PAPER_RAW = Recipe(leads=12, invalid_rule=True)
PAPER_PTBXL = Recipe(leads=12, invalid_rule=False)  # no quality filter for PTB-XL (docs/data.md §3)
PAPER_CODE15 = Recipe(leads=12, crop_seconds=None, invalid_rule=False)  # all 4096 samples -> 2500 (docs/data.md §2)


@dataclass(frozen=True)
class Source:
    """One dataset as the profile uses it: reader kind, folder under ``data_root``, options, recipe."""

    name: str
    reader: str = field(metadata=one_of(*READERS))
    path: str
    recipe: Recipe
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class PretrainRecipe:
    """What the recipe search chooses for one pretraining run: the peak learning rate, the warm-up (in epochs,
    fractions allowed) and the start of the EMA momentum (which rises linearly to its end over the run)."""

    lr: float
    warmup_epochs: float
    ema_start: float

    def text(self) -> str:
        return f"lr {self.lr:g}, warm-up {self.warmup_epochs:g} epoch(s), EMA from {self.ema_start:g}"

    @property
    def suffix(self) -> str:
        """A folder-name tag, e.g. ``lr0.002-w1-ema0.99``."""
        return f"lr{self.lr:g}-w{self.warmup_epochs:g}-ema{self.ema_start:g}"


# Each paper's own recipe, as published: peak lr, warm-up as a share of the run, EMA start.
# Kim: 2.5e-5 (rb, batch 128) / 5e-5 (mb, batch 64), 5 of 100 epochs, 0.996 -> 1. Weimann & Conrad: 1e-3 (batch
# 2,048), 10k of 100k steps, 0.998 -> 0.9995 (docs/method_kim.md §7; training/weimann_objective.py).
PAPER_RECIPES = {"ECG-JEPA_rb": (2.5e-5, 0.05, 0.996), "ECG-JEPA_mb": (5e-5, 0.05, 0.996),
                 "Weimann ECG-JEPA": (1e-3, 0.10, 0.998)}


def paper_recipe(method: str, epochs: int) -> PretrainRecipe:
    """The paper's recipe of ``method`` at a run of ``epochs``: its lr and EMA start, its warm-up share of the run."""
    lr, warmup_share, ema = PAPER_RECIPES[method]
    return PretrainRecipe(lr, round(warmup_share * epochs, 3), ema)


@dataclass(frozen=True)
class RecipeSearch:
    """The pretraining-recipe search, the same for every method (Kim rb, Kim mb, Weimann).

    Stage 1: every ``lrs`` at the profile's warm-up and EMA start. Stage 2, at stage 1's best lr: the warm-up
    ``warmup_epochs`` and, separately, the EMA start ``ema_start``. The paper's own recipe at this length runs too
    and enters the choice. Every run is one pretraining seed at the main length, scored by a linear probe on its
    mean-pooled features (PTB-XL folds 1-8, validation fold 9); the best becomes the main row's recipe and its run
    the main row's first seed.
    """

    lrs: tuple[float, ...] = field(metadata=list_of(positive(MAX_LR)))
    warmup_epochs: float = field(metadata=number(0.0, MAX_EPOCHS))
    ema_start: float = field(metadata=number(0.0, 1.0, below=True))

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class PretrainPlan:
    epochs: int = field(metadata=count(1, MAX_EPOCHS))
    batch_rb: int = field(metadata=count(1, MAX_BATCH))
    batch_mb: int = field(metadata=count(1, MAX_BATCH))
    lr_rb: float = field(metadata=positive(MAX_LR))
    lr_mb: float = field(metadata=positive(MAX_LR))
    # fractions allowed (rounded to whole iterations); at most the run's length (checked where both are known)
    warmup_epochs: float = field(metadata=number(0.0, MAX_EPOCHS))
    precision: str = field(default="fp32", metadata=one_of("fp32", "bf16", "fp16"))
    save_every: int = field(default=1, metadata=count(1, MAX_EPOCHS))
    seeds: int = field(default=1, metadata=count(1, 100))  # pretraining seeds of the main runs (rb, mb, Weimann)
    # the ablations' length (Tables 6-8); None: the main runs' epochs
    ablation_epochs: int | None = field(default=None, metadata=optional(count(1, MAX_EPOCHS)))
    # Kim's EMA start (Weimann's: ``WEIMANN_PRETRAIN``)
    ema_start: float = field(default=0.996, metadata=number(0.0, 1.0, below=True))
    search: RecipeSearch | None = None  # None: the values above are the recipe
    # pretraining seeds of every ablation setting (Tables 6-8)
    ablation_seeds: int = field(default=1, metadata=count(1, 100))
    # also pretrain rb with position-free targets ("centred" / "standardised"; not in the paper; Table 9)
    shortcut_variant: str | None = field(default=None, metadata=optional(one_of("centred", "standardised")))

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class WeimannPlan:
    """Weimann & Conrad's ECG-JEPA in a profile (Table 9): its size, peak learning rate and attentive probe.

    Epochs, batch, warm-up and precision are those of the profile's Kim mb run (``PretrainPlan``), and the
    size is chosen so that a pretraining step costs what Kim's does: equal pretraining wall-clock."""

    dim: int = field(metadata=count(2, MAX_WIDTH))
    depth: int = field(metadata=count(1, MAX_DEPTH))
    num_heads: int = field(metadata=count(1, MAX_HEADS))
    pred_dim: int = field(metadata=count(2, MAX_WIDTH))
    pred_depth: int = field(metadata=count(1, MAX_DEPTH))
    pred_num_heads: int = field(metadata=count(1, MAX_HEADS))
    num_registers: int = field(default=1, metadata=count(0, 64))
    lr: float = field(default=1e-3, metadata=positive(MAX_LR))  # their peak learning rate
    # The attentive probe (both families): their recipe is 5,000 steps of 128 records.
    probe_steps: int = field(default=5000, metadata=count(1, MAX_STEPS))
    probe_batch: int = field(default=128, metadata=count(1, MAX_BATCH))
    probe_eval_every: int = field(default=100, metadata=count(1, MAX_STEPS))
    # probe seeds of the attentive probe; None: all the study's probe seeds
    attentive_seeds: int | None = field(default=None, metadata=optional(count(1, 100)))
    # PTB-XL label sets (``data.ptbxl_tasks``) evaluated where the data has them.
    tasks: tuple[str, ...] = field(default=("superdiagnostic", "ST-MEM", "all", "form", "rhythm"),
                                   metadata=list_of(one_of(*WEIMANN_TASKS)))

    def __post_init__(self) -> None:
        check_fields(self)
        for width, heads, what in ((self.dim, self.num_heads, "Weimann encoder"),
                                   (self.pred_dim, self.pred_num_heads, "Weimann predictor")):
            divides(width, heads, what)
            if width % 2:
                raise ValueError(f"{what} width {width} must be even (sin-cos positions)")


@dataclass(frozen=True)
class EvalPlan:
    probe_recipe: str = field(default="code", metadata=one_of(*PROBE_RECIPES))
    # Readouts of the frozen tokens that the linear-probe tables give rows for (``evaluation.readouts``):
    # "mean" (the paper's) and "stats" (pooled statistics: mean, max, sd over the tokens).
    readouts: tuple[str, ...] = field(default=("mean", "stats"), metadata=list_of(one_of("mean", "stats")))
    probe_seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata=list_of(count(0, MAX_SEED)))
    # the authors' recipe; the search's longest run
    finetune_epochs: int = field(default=10, metadata=count(1, MAX_EPOCHS))
    finetune_batch: int = field(default=16, metadata=count(1, MAX_BATCH))
    # The fine-tuning search (splits with a validation fold): these AdamW lrs besides the authors' 6.25e-6,
    # early stopping after ``finetune_patience`` epochs without a better validation AUC.
    finetune_lrs: tuple[float, ...] = field(default=(3e-4, 1e-3, 3e-3), metadata=list_of(positive(MAX_LR), 0))
    finetune_patience: int = field(default=2, metadata=count(1, MAX_EPOCHS))
    # whether the search also runs the authors' lr (and Table 2 shows its run as a row of its own)
    finetune_authors_lr: bool = field(default=True, metadata=one_of(True, False))
    # fine-tuning seeds of Table 2's searched rows (the search runs on the first)
    finetune_seeds: int = field(default=1, metadata=count(1, 100))
    finetune_on: tuple[str, ...] | None = None  # evaluations (by label) Table 2 fine-tunes on; None = all
    # Fine-tuning and training from scratch: "none" (the authors' loss) or "balanced" (classes weighted by
    # inverse training frequency, where the plain loss leaves every record on the majority class).
    finetune_class_weights: str = field(default="none", metadata=one_of("none", "balanced"))
    supervised_epochs: int = field(default=100, metadata=count(1, MAX_EPOCHS))
    low_shot: tuple[float, ...] = field(default=(0.01, 0.10), metadata=list_of(number(0, 1, above=True)))
    low_shot_draws: int = field(default=3, metadata=count(1, 1000))
    bootstrap: int = field(default=1000, metadata=count(1, 1_000_000))
    cpsc_folds: int = field(default=5, metadata=count(2, 100))
    # Evaluations (by label) on which the CroPA ablation fine-tunes; None = all of them.
    ablation_finetune_on: tuple[str, ...] | None = None
    # LUDB segmentation (Table 10): the most epochs of the frozen head, fine-tuning and the U-Net (each stops
    # early on the validation records, ``SegmentationConfig.patience``); the U-Net's width.
    segmentation_epochs: tuple[int, int, int] = field(default=(60, 50, 60), metadata=pair(*[count(1, MAX_EPOCHS)] * 3))
    segmentation_unet_width: int = field(default=8, metadata=count(1, 1024))
    mask_ratios: tuple[tuple[str, tuple[float, float]], ...] = field(default=(
        ("random", (0.3, 0.4)), ("random", (0.4, 0.5)), ("random", (0.5, 0.6)), ("random", (0.6, 0.7)),
        ("random", (0.7, 0.8)), ("block", (0.10, 0.15)), ("block", (0.15, 0.20)), ("block", (0.175, 0.225))),
        metadata=list_of(pair(one_of("random", "block"), pair(*[number(0, 1, below=True)] * 2)), 0))

    def __post_init__(self) -> None:
        check_fields(self)
        if not self.finetune_authors_lr and not self.finetune_lrs:
            raise ValueError("evaluation.finetune_lrs is empty and evaluation.finetune_authors_lr is false: "
                             "the fine-tuning search has no learning rate to try")
        for kind, scale in self.mask_ratios:
            MaskConfig(kind, scale)  # its own check: 0 <= lo <= hi < 1


@dataclass(frozen=True)
class Profile:
    name: str
    data_root: Path
    pretrain_sources: tuple[Source, ...]
    ptbxl: Source
    cpsc: Source
    ludb: Source | None
    synthetic: int = field(metadata=count(0, 10_000_000))
    model: ModelConfig
    pretrain: PretrainPlan
    evaluation: EvalPlan
    ptbxl_splits: tuple[str, ...] = field(default=("paper", "standard"), metadata=list_of(one_of("paper", "standard")))
    requires_gpu: bool = False
    pretrains: bool = True  # False: evaluates encoders given as files (``paper-eval``)
    deviations: tuple[str, ...] = ()
    # (dotted key, value) pairs set from the command line or papermill (see ``study.overrides``).
    overrides: tuple[tuple[str, Any], ...] = ()
    weimann: WeimannPlan | None = None  # None: Weimann's encoder only from a given file (Table 9)

    def __post_init__(self) -> None:
        check_fields(self)
        lengths = {s.recipe.n_samples for s in (*self.pretrain_sources, self.ptbxl, self.cpsc, self.ludb) if s}
        if lengths - {self.model.n_samples}:
            raise ValueError(f"model.n_patches x model.patch_size = {self.model.n_samples} samples, but the data "
                             f"sources are prepared at {sorted(lengths)} (recipe.n_samples)")
        # The evaluations' labels (the rows' ``split``, ``study.tables.evaluations``) the fine-tuning lists name.
        labels = sorted({f"{s} split" for s in self.ptbxl_splits}
                        | {"g1-g6 / g7", f"{self.evaluation.cpsc_folds}-fold CV"})
        for key in ("finetune_on", "ablation_finetune_on"):
            if unknown := sorted(set(getattr(self.evaluation, key) or ()) - set(labels)):
                raise ValueError(f"evaluation.{key} names no evaluation of this profile: {unknown} (allowed: none, or "
                                 f"a list of {', '.join(map(repr, labels))})")

    @property
    def table_note(self) -> str:
        """The line every table of this profile carries: how this setting differs from the paper's."""
        note = f"Profile `{self.name}`: " + " ".join(self.deviations[:1]) + " All deviations: end of REPORT.md."
        return note + (f" Overrides: {self.overrides_text}." if self.overrides else "")

    @property
    def notice(self) -> str:
        """What a reader must know before any number of this profile: the top of REPORT.md, the end of a run."""
        return NOTICES.get(self.name, "")

    @property
    def overrides_text(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.overrides)

    def path(self, source: Source) -> Path:
        return self.data_root / source.path

    def with_overrides(self, **changes) -> "Profile":
        return replace(self, **changes)


_STUDY_DEVIATIONS = (
    "Inputs band-passed 0.5-40 Hz and z-scored per lead (the recipe of ptbxl_subset); the paper feeds raw mV.",
    "PTB-XL: the 1,819-record subset (8.6 %) instead of 21,799 records; CPSC: the 150 g1 records by stratified "
    "5-fold cross-validation instead of g1-g6 / g7.",
    "Pretraining corpus: the real unlabelled records available here plus deepfake-ecg synthetic ECGs instead of "
    "Chapman + Ningbo + CODE-15 (~174k ECGs); PTB-XL records of the test (and validation) folds are excluded.",
    "Model and training much smaller than the paper's (768 wide, 12 blocks, 100 epochs).",
    "Heart-rate and QRS labels from our neurokit2-based delineator (validated on LUDB) instead of Joung et al. 2024.",
    "Linear probes z-score each feature with the training records' mean and sd before the authors' code recipe "
    "(which feeds raw features): the features of this small, briefly pretrained encoder barely vary across records, "
    "and on raw features the head learns little beyond the class priors. Table 1 also gives the raw-feature rows.",
    "Table 9: Weimann & Conrad's model reads the 250 Hz caches upsampled to 500 Hz by FFT resampling (they record "
    "at 500 Hz), z-scored per record and lead like every input here (theirs: per channel with the training set's "
    "mean and sd, clipped to ±5), and is pretrained for Kim mb's epochs and batch at a size of equal step cost "
    "instead of their 100k steps of 2,048 records; its attentive probe runs fewer steps than their 5,000.",
)


_CPU_STUDY_PLAN = (
    "Pretraining recipe: searched for this budget on PTB-XL validation fold 9, the same search for Kim rb, Kim mb and "
    "Weimann (peak lr 1e-4 / 5e-4 / 2e-3, then a shorter warm-up and an earlier EMA start at the best lr, and the "
    "paper's own recipe at this length); each method's rows use its chosen recipe, and Table 9 also gives each "
    "method with its paper's recipe. The paper trains with its own values for 100 epochs.",
    "Fine-tuning (Table 2): the lr is searched on PTB-XL fold 9 between 1e-3 and 3e-3, at most 8 epochs with early "
    "stopping after 2 without a better validation AUC, for rb, mb and the encoder trained from scratch alike, on the "
    "standard split only (the paper: its recipe, 10 epochs, on folds 1-9 / 10 and CPSC), then two more fine-tuning "
    "seeds at the chosen lr. The authors' lr (6.25e-6 = 1e-4 x 16 / 256) is not run here: the second edition "
    "found every initialisation at chance with it at this length. Fine-tuning and training from "
    "scratch weight the cross-entropy by inverse training class frequency (the paper: plain cross-entropy): with "
    "the plain loss, 4 epochs on 1,067 single-label records left 99 % of test records on NORM. The paper's fine-tuning "
    "numbers keep each metric's best epoch on the test set and feed raw mV; ours choose the epoch on validation "
    "and feed band-passed, z-scored signals. Table 6 has no fine-tuned rows here.",
    "Pretraining: main runs (rb, mb, Weimann) 3 seeds x 4 epochs, the claims' intervals nested over the seeds; "
    "ablations (Tables 6-8) 2 seeds x 4 epochs at each method's chosen recipe, four of the paper's eight masking "
    "settings (random 0.3-0.4 and 0.6-0.7, multi-block 0.10-0.15 and 0.175-0.225).",
    "The PTB-XL multi-class task is 3-class here (NORM / STTC / CD): the subset has no single-label MI or HYP "
    "record, so its multi-class rows are not set beside the paper's 5-class numbers.",
)


def _study_sources(ptbxl_arrays: Source) -> tuple[Source, ...]:
    """The unlabelled corpus: PTB-XL's training folds, CODE-15 and Chapman-Ningbo. CPSC 2018 and LUDB stay out:
    every one of their records is tested on (cross-validation, segmentation)."""
    return (
        replace(ptbxl_arrays, name="ptbxl_subset_train", options={**ptbxl_arrays.options, "pretrain_folds": "train"}),
        Source("code15", "code15", "code15", STUDY_RAW, {"mode": "strip_padding"}),
        Source("chapman_ningbo", "chapman_ningbo", "chapman_ningbo", STUDY_RAW),
    )


def smoke() -> Profile:
    ptbxl = Source("ptbxl_subset", "arrays", "ptbxl_subset", STUDY_ARRAYS)
    return Profile(
        name="smoke", data_root=SAMPLE_DIR, pretrain_sources=_study_sources(ptbxl), ptbxl=ptbxl,
        cpsc=Source("cpsc2018", "cpsc2018", "cpsc2018", STUDY_RAW), ludb=Source("ludb", "ludb", "ludb", STUDY_RAW),
        synthetic=32,
        model=ModelConfig(embed_dim=32, depth=2, num_heads=4, pred_embed_dim=16, pred_depth=1, pred_num_heads=2,
                          drop_path_rate=0.1, attention="factorised"),
        pretrain=PretrainPlan(epochs=2, batch_rb=16, batch_mb=16, lr_rb=1e-3, lr_mb=1e-3, warmup_epochs=1, seeds=2,
                              ablation_epochs=1, shortcut_variant="centred",
                              search=RecipeSearch(lrs=(1e-3, 3e-3), warmup_epochs=0.5, ema_start=0.99)),
        evaluation=EvalPlan(probe_seeds=(0, 1, 2), finetune_epochs=2, finetune_seeds=2, supervised_epochs=2,
                            finetune_class_weights="balanced",
                            bootstrap=200, cpsc_folds=2, probe_recipe="code-standardised",
                            segmentation_epochs=(2, 1, 1), segmentation_unet_width=4),
        # Weimann's size by measurement: seconds per pretraining step of 16 records, fp32 on 2 cores, median of 12
        # interleaved rounds: Kim mb (32 wide, 2 blocks) 0.81; Weimann 48/3 0.80, 64/2 0.72, 32/2 0.58, 48/2 0.55
        # (a second round: Kim mb 0.71, Weimann 32/2 0.49, 32/1 0.30). Same epochs and batch as Kim mb, so 48 wide
        # / 3 blocks gets Kim mb's pretraining wall-clock.
        weimann=WeimannPlan(dim=48, depth=3, num_heads=4, pred_dim=24, pred_depth=3, pred_num_heads=2,
                            probe_steps=40, probe_batch=16, probe_eval_every=20),
        deviations=("Toy scale: the shipped sample (tens of records) and a tiny model; numbers show that the "
                    "pipeline runs, not what the method achieves.",) + _STUDY_DEVIATIONS,
    )


def cpu_study() -> Profile:
    ptbxl = Source("ptbxl_subset", "arrays", "ptbxl_subset", STUDY_ARRAYS)
    return Profile(
        name="cpu-study", data_root=shared_dir() / "data", pretrain_sources=_study_sources(ptbxl), ptbxl=ptbxl,
        cpsc=Source("cpsc2018", "cpsc2018", "cpsc2018", STUDY_RAW), ludb=Source("ludb", "ludb", "ludb", STUDY_RAW),
        # Sized by measurement on 2 cores to fit the whole study in 140 minutes. The corpus is 2,084 ECGs (1,442
        # PTB-XL folds 1-8, 122 CODE-15, 20 Ningbo, 500 synthetic): 66 steps of 32 per epoch. A pretraining step of
        # 32 records at 96 wide / 3 blocks takes 0.40 s on a 2-core AVX2 EPYC (0.25 s on an AVX512 Xeon), rb and mb
        # alike, so an epoch ~26 s. Runs of 4 epochs: the recipe search (6 candidates x 3 methods, the winner
        # reused as the first seed), 2 more seeds of each winner, rb on real ECGs only, rb with centred targets,
        # and the ablations (2 seeds each: CroPA off x 2 methods, 2 masking settings, 12 leads).
        synthetic=500,
        model=ModelConfig(embed_dim=96, depth=3, num_heads=4, pred_embed_dim=48, pred_depth=2, pred_num_heads=4,
                          drop_path_rate=0.1, attention="factorised"),
        pretrain=PretrainPlan(epochs=4, batch_rb=32, batch_mb=32, lr_rb=5e-4, lr_mb=5e-4, warmup_epochs=1, seeds=3,
                              ablation_seeds=2, shortcut_variant="centred",
                              search=RecipeSearch(lrs=(1e-4, 5e-4, 2e-3), warmup_epochs=0.25, ema_start=0.99)),
        evaluation=EvalPlan(finetune_epochs=8, finetune_patience=2, finetune_lrs=(1e-3, 3e-3), finetune_seeds=3,
                            finetune_class_weights="balanced", finetune_authors_lr=False,
                            finetune_on=("standard split",), supervised_epochs=20, ablation_finetune_on=(),
                            probe_recipe="code-standardised", segmentation_epochs=(60, 50, 60),
                            mask_ratios=(("random", (0.3, 0.4)), ("random", (0.6, 0.7)), ("block", (0.10, 0.15)),
                                         ("block", (0.175, 0.225)))),
        # Weimann's size by measurement: seconds per pretraining step of 32 records, fp32 on 2 busy cores, median
        # of 8 interleaved rounds: Kim mb (96 wide, 3 blocks) 5.13; Weimann 192/3 5.10, 128/5 4.89, 160/3 4.02,
        # 128/3 3.61 (an earlier round: Kim mb 7.95, Weimann 96/3 4.85, 128/3 4.93). Same epochs and batch as
        # Kim mb, so 192 wide / 3 blocks (ViT-XS width) gets Kim mb's pretraining wall-clock.
        # An attentive-probe step of 128 records takes 0.43 s on Kim's 400 tokens x 96 and 0.08 s on Weimann's 7 crops
        # x 51 tokens x 192 (one thread): 100 steps of 64, one probe seed, superdiagnostic only, keep Table 9 at ~6 min.
        weimann=WeimannPlan(dim=192, depth=3, num_heads=4, pred_dim=96, pred_depth=3, pred_num_heads=4,
                            probe_steps=100, probe_batch=64, probe_eval_every=25, attentive_seeds=1,
                            tasks=("superdiagnostic",)),
        deviations=_STUDY_DEVIATIONS + _CPU_STUDY_PLAN,
    )


def paper() -> Profile:
    root = Path(os.environ.get("ECGJEPA_DATA", REPO_ROOT / "datasets"))
    return Profile(
        name="paper", data_root=root,
        pretrain_sources=(Source("chapman_ningbo", "chapman_ningbo", "chapman_ningbo", PAPER_RAW),
                          Source("code15", "code15", "code15", PAPER_CODE15, {"mode": "paper"})),
        ptbxl=Source("ptbxl", "ptbxl", "ptbxl", PAPER_PTBXL, {"sampling_rate": 500}),
        cpsc=Source("cpsc2018", "cpsc2018", "cpsc2018", PAPER_RAW), ludb=Source("ludb", "ludb", "ludb", PAPER_RAW),
        synthetic=0,
        model=ModelConfig(attention="sdpa"),
        pretrain=PretrainPlan(epochs=100, batch_rb=128, batch_mb=64, lr_rb=2.5e-5, lr_mb=5e-5, warmup_epochs=5,
                              precision="fp16", save_every=5),
        evaluation=EvalPlan(probe_seeds=(0,)),
        requires_gpu=True,
        deviations=("Heart-rate and QRS labels from our neurokit2-based delineator (validated on LUDB) instead of "
                    "Joung et al. 2024.",),
    )


def paper_eval() -> Profile:
    """The paper's evaluation (Tables 1-5) of encoders given as files, on the full PTB-XL and CPSC 2018 in
    their official layouts under ``$ECGJEPA_DATA``; no pretraining. CUDA or CPU."""
    base = paper()
    return replace(
        base, name="paper-eval", pretrain_sources=(), pretrains=False, requires_gpu=False,
        deviations=base.deviations + (
            "The ECG-JEPA rows are the encoder files given with -p encoders (named with their SHA-256 in every "
            "table), not a pretraining of this project; Tables 6-8 compare pretraining runs and are not run here.",))


PROFILES = {"smoke": smoke, "cpu-study": cpu_study, "paper": paper, "paper-eval": paper_eval}
NOTICES = {"smoke": "The smoke profile is a pipeline check: the shipped sample (tens of records) and a tiny model trained "
                    "for a few steps, so its numbers show that every step runs, not what ECG-JEPA achieves, and its "
                    "verdicts are not findings. The study's results: results/cpu-study/REPORT.md."}


ALLOW_CPU_ENV = "ECGJEPA_ALLOW_CPU"


def require_device(profile: Profile) -> None:
    """A profile written for a CUDA GPU stops at once, clearly, where torch sees none.

    ``ECGJEPA_ALLOW_CPU=1`` bypasses the check on purpose (the paper-size structural test on CPU).
    """
    if not profile.requires_gpu or os.environ.get(ALLOW_CPU_ENV) == "1":
        return
    import torch

    if not torch.cuda.is_available():
        raise SystemExit(
            f"profile {profile.name!r} needs one CUDA GPU (full datasets, 768-wide model, 100 epochs), and torch "
            f"{torch.__version__} sees none on this machine. Use --profile smoke or cpu-study here, evaluate "
            "released weights with --profile paper-eval (GPU or CPU), or install a CUDA build of torch on a GPU "
            f"machine (see README, 'GPU'). {ALLOW_CPU_ENV}=1 runs it on the CPU anyway (for structural tests).")


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]()
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None
