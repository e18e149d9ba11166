"""One reproduction study: a profile's data, its pretrained encoders and their frozen features.

Every notebook opens a :class:`Study` with its papermill parameters and asks it for what it
needs; pretraining runs are found again (same settings and data → same run folder) or resumed, so
any notebook can run alone (``run_all.sh --only 05``) and a second run reuses the first's work.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ecgjepa_core.study import datasets
from ecgjepa_core.checkpoint import load_checkpoint, load_weimann_encoder
from ecgjepa_core.data.ecg_features import ECG_FEATURES_VERSION, ecg_feature_table, validate_on_ludb
from ecgjepa_core.models.config import MULTIBLOCK_MASK, RANDOM_MASK, MaskConfig
from ecgjepa_core.evaluation import random_encoder
from ecgjepa_core.evaluation.features import select_leads
from ecgjepa_core.evaluation.readouts import token_readouts
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.paths import REPO_ROOT
from ecgjepa_core.training.config import PretrainConfig
from ecgjepa_core.training.pretrain import PretrainResult, encoder_file, pretrain
from ecgjepa_core.report import provenance
from ecgjepa_core.study.encoders import load_encoder, parse_encoders
from ecgjepa_core.study.overrides import apply_overrides, parse_overrides
from ecgjepa_core.study.profiles import (LEADS_8_OF_12, PretrainRecipe, Profile, get_profile, paper_recipe,
                                         require_device)
from ecgjepa_core.study import recipe_search, weimann_family


@dataclass(frozen=True)
class Variant:
    """One pretrained model of the study: the method (rb / mb) and what an ablation changes.

    ``family``: "kim" (Kim 2024) or "weimann" (Weimann & Conrad 2025, ``study.weimann_family``); the
    weimann family reads all 12 leads and its own masks (its config), so ``mask`` and ``cropa`` do not apply.
    """

    method: str                      # "ECG-JEPA_rb" or "ECG-JEPA_mb" (the paper's names)
    mask: MaskConfig
    cropa: bool = True
    n_leads: int = 8
    synthetic: bool = True
    family: str = "kim"
    seed: int = 0                    # pretraining seed, added to the study seed (the main runs repeat it)
    epochs: int | None = None        # None: the profile's main length; else the ablations' shorter one
    recipe: PretrainRecipe | None = None  # None: the method's recipe in this study (the search's choice)
    targets: str = "paper"           # "centred" / "standardised": non-paper variants without the positional shortcut

    def with_seed(self, seed: int) -> "Variant":
        return replace(self, seed=seed)

    @property
    def key(self) -> str:
        """Short stable name for folders and logs, e.g. ``rb``, ``mb-nocropa``, ``rb-0.3-0.4``, ``weimann``; a
        recipe given explicitly is named too (``rb-lr2.5e-05-w0.2-ema0.996``)."""
        if self.family == "weimann":
            return "weimann" + ("" if self.synthetic else "-realonly") + self._recipe_tag + self._run_suffix
        base = "rb" if self.method.endswith("rb") else "mb"
        default = RANDOM_MASK if base == "rb" else MULTIBLOCK_MASK
        parts = [base]
        if self.mask != default:
            parts.append(f"{self.mask.scale[0]:g}-{self.mask.scale[1]:g}")
        if not self.cropa:
            parts.append("nocropa")
        if self.n_leads != 8:
            parts.append(f"{self.n_leads}lead")
        if not self.synthetic:
            parts.append("realonly")
        if self.targets != "paper":
            parts.append(self.targets)
        return "-".join(parts) + self._recipe_tag + self._run_suffix

    @property
    def _recipe_tag(self) -> str:
        return f"-{self.recipe.suffix}" if self.recipe is not None else ""

    @property
    def _run_suffix(self) -> str:
        return (f"-{self.epochs}ep" if self.epochs is not None else "") + (f"-s{self.seed}" if self.seed else "")

    @property
    def leads(self) -> tuple[int, ...]:
        """Rows of the 12-lead caches this model reads."""
        return LEADS_8_OF_12 if self.n_leads == 8 else tuple(range(12))


def loader_workers(device: str) -> int:
    """DataLoader worker processes of pretraining: on a GPU up to 4, which load the next batches while it computes
    (in the training process, loading would stall it for each batch: docs/scale.md); on a CPU none, the cores
    being the model's. Workers change no number of a run (``training.pretrain``)."""
    return min(4, (os.cpu_count() or 1) - 1) if str(device).startswith("cuda") else 0


RUN_SUMMARY = "summary.json"
# The columns of a pretraining summary (``Study.pretraining_summary``; Weimann's runs describe mask and leads alike).
RUN_COLUMNS = ("variant", "method", "mask", "cropa", "leads", "model", "recipe", "corpus_records", "epochs",
               "steps", "final_loss", "wall_seconds", "run")
RB = Variant("ECG-JEPA_rb", RANDOM_MASK)
MB = Variant("ECG-JEPA_mb", MULTIBLOCK_MASK)


RB_REAL_ONLY = replace(RB, synthetic=False)   # the synthetic-vs-real row of Table 1
RB_12_LEADS = replace(RB, n_leads=12)          # Table 8
WEIMANN = Variant("Weimann ECG-JEPA", MULTIBLOCK_MASK, cropa=False, n_leads=12, family="weimann")  # Table 9


def without_cropa(variant: Variant) -> Variant:
    """The Table 6 ablation of ``variant``: plain full attention in the encoders."""
    return replace(variant, cropa=False)


def masking_variant(kind: str, scale: tuple[float, float]) -> Variant:
    """The Table 7 setting ``kind`` ("random" / "block") with mask ratio range ``scale``."""
    base = RB if kind == "random" else MB
    return replace(base, mask=replace(base.mask, scale=tuple(scale)))


class Study:
    """A profile plus the notebook parameters: where results go, seeds, optional overrides."""

    def __init__(self, profile: str | Profile = "smoke", output_dir: str | Path | None = None, seed: int = 0,
                 encoders: str | dict | None = None, overrides: str | dict | None = None, device: str = "auto",
                 progress: bool = True):
        base = get_profile(profile) if isinstance(profile, str) else profile
        changes = parse_overrides(overrides)
        self.profile = replace(apply_overrides(base, changes), overrides=tuple(sorted(changes.items())))
        require_device(self.profile)
        self.output_dir = Path(output_dir or REPO_ROOT / "results" / self.profile.name)
        self.figures_dir = self.output_dir / "figures"
        self.seed = seed
        self.epochs = self.profile.pretrain.epochs
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.progress = progress
        self.runs_dir = Path(os.environ.get("ECGJEPA_RUNS", REPO_ROOT / "runs")) / self.profile.name
        self.sources = parse_encoders(encoders)
        self._features: dict[tuple, np.ndarray] = {}
        self._encoders: dict[tuple, Encoder] = {}
        self._finished: dict[Variant, Path] = {}  # run folders found complete (finding one prepares its corpus)
        self._searches: dict[str, recipe_search.SearchResult] = {}  # each method's recipe search, once run

    @property
    def can_pretrain(self) -> bool:
        """False where the profile evaluates given encoders only (``paper-eval``)."""
        return self.profile.pretrains

    def given(self, variant: Variant, pretrained_here: bool = False):
        """The weights file standing in for ``variant`` (one of the main rows rb / mb), or None."""
        if pretrained_here or variant not in (RB, MB, WEIMANN):
            return None
        return self.sources.get(variant.key)

    def encoder_label(self, variant: Variant, pretrained_here: bool = False) -> str:
        """What a table's ``encoder`` column says: the file and its SHA-256, or this study's pretraining."""
        source = self.given(variant, pretrained_here)
        if source is not None:
            return source.label
        model = self.model_text if variant.family == "kim" else weimann_family.model_text(self.model_config(variant))
        return (f"pretrained here: {variant.key}, {self.epochs_of(variant)} epochs, {self.recipe(variant).text()} "
                f"({model})")

    def epochs_of(self, variant: Variant) -> int:
        return self.epochs if variant.epochs is None else variant.epochs

    # pretraining recipes ---------------------------------------------------------------------------
    def default_recipe(self, method: str) -> PretrainRecipe:
        """The profile's own values for ``method``: what it trains with where it does not search."""
        plan = self.profile.pretrain
        if method == WEIMANN.method:
            return weimann_family.default_recipe(self.profile)
        return PretrainRecipe(plan.lr_rb if method == RB.method else plan.lr_mb, plan.warmup_epochs, plan.ema_start)

    def paper_recipe(self, method: str) -> PretrainRecipe:
        """The paper's own recipe of ``method`` at this profile's main length (``profiles.PAPER_RECIPES``)."""
        return paper_recipe(method, self.epochs)

    def recipe_of(self, method: str) -> PretrainRecipe:
        """The recipe of ``method``'s rows: the search's choice where the profile searches (pretraining the
        candidates first, see ``recipe_search``), else :meth:`default_recipe`."""
        if self.profile.pretrain.search is None:
            return self.default_recipe(method)
        return self.recipe_search(method).chosen

    def recipe_search(self, method: str) -> recipe_search.SearchResult:
        """Every candidate of ``method``'s recipe search with its validation AUC (run once per study)."""
        if method not in self._searches:
            self._searches[method] = recipe_search.choose(self, method)
        return self._searches[method]

    def main_variant(self, method: str) -> Variant:
        """The main row of ``method`` (``ECG-JEPA_rb``, ``ECG-JEPA_mb``, ``Weimann ECG-JEPA``), first seed."""
        return {v.method: v for v in (RB, MB, WEIMANN)}[method]

    def shortcut_variant(self) -> Variant:
        """rb with the profile's position-free targets (``pretrain.shortcut_variant``; not in the paper)."""
        return replace(RB, targets=self.profile.pretrain.shortcut_variant)

    def with_paper_recipe(self, variant: Variant) -> Variant:
        """``variant`` trained with its paper's own recipe at this length (one row per method)."""
        return replace(variant, recipe=self.paper_recipe(variant.method))

    def extra_runs(self, variant: Variant) -> list[Variant]:
        """The runs beside ``variant``'s main row in the readouts table: the method with its paper's recipe where the
        study trains it with another, and for rb the variant without the positional shortcut where the profile asks for
        it (``pretrain.shortcut_variant``)."""
        if not self.can_pretrain or self.given(variant) is not None:
            return []
        runs = [] if self.recipe_of(variant.method) == self.paper_recipe(variant.method) else [
            self.with_paper_recipe(variant)]
        if variant == RB and self.profile.pretrain.shortcut_variant is not None:
            runs.append(self.shortcut_variant())
        return runs

    def recipe(self, variant: Variant) -> PretrainRecipe:
        """The recipe a run of ``variant`` trains with: its own, else its method's (:meth:`recipe_of`)."""
        return variant.recipe if variant.recipe is not None else self.recipe_of(variant.method)

    def feature_key(self, variant: Variant) -> str:
        """What caches ``variant``'s features: its run key, or ``<key>:file`` for a given file (no search needed)."""
        return f"{variant.key}:file" if self.given(variant) is not None else self.run_key(variant)

    def run_key(self, variant: Variant) -> str:
        """The key of the run ``variant`` trains: tagged with its recipe where that is not the profile's default, so
        that a search candidate and the main run it becomes share one folder (run folders, feature caches, tables)."""
        recipe = self.recipe(variant)
        return replace(variant, recipe=None if recipe == self.default_recipe(variant.method) else recipe).key

    def main_runs(self, variant: Variant) -> list[Variant]:
        """The pretraining seeds of a main row (``pretrain.seeds`` of them); the given file alone if there is one."""
        if self.given(variant) is not None or not self.can_pretrain:
            return [variant]
        return [variant.with_seed(s) for s in range(self.profile.pretrain.seeds)]

    def ablation(self, variant: Variant) -> Variant:
        """``variant`` at the ablations' length (``pretrain.ablation_epochs``; None: the main length)."""
        epochs = self.profile.pretrain.ablation_epochs
        return variant if epochs is None or epochs == self.epochs else replace(variant, epochs=epochs)

    def ablation_runs(self, variant: Variant) -> list[Variant]:
        """``variant`` at the ablations' length, one run per ablation seed (``pretrain.ablation_seeds``); where that
        length is the main one, the default settings are the main runs' first seeds."""
        return [self.ablation(variant).with_seed(s) for s in range(self.profile.pretrain.ablation_seeds)]

    def runs_label(self, variants: list[Variant], pretrained_here: bool = False) -> str:
        """A row's encoder column for one or several pretraining seeds of one variant."""
        label = self.encoder_label(variants[0], pretrained_here)
        if len(variants) == 1:
            return label
        seeds = "/".join(str(self.seed + v.seed) for v in variants)
        return label.replace(" epochs, ", f" epochs, seeds {seeds}, ", 1)

    def identity(self) -> dict:
        """What every table of this study records: commit, profile, seed, overrides, encoder files."""
        return provenance.identity(self.profile.name, self.seed, dict(self.profile.overrides),
                                   {k: s.identity() for k, s in sorted(self.sources.items())})

    @property
    def random_label(self) -> str:
        return f"random init, seed {self.seed} ({self.model_text})"

    @property
    def random_seeds(self) -> tuple[int, ...]:
        """Initialisation seeds of the random-init rows that stand beside the main runs (as many as their seeds)."""
        return tuple(self.seed + s for s in range(self.profile.pretrain.seeds if self.can_pretrain else 1))

    @property
    def model_text(self) -> str:
        """The encoder size in words, for every table's protocol column."""
        m = self.profile.model
        return f"encoder {m.embed_dim} wide, {m.depth} blocks, {m.num_heads} heads"

    @property
    def models_text(self) -> str:
        """Every encoder behind the rows in words, for the captions: Kim's architecture of this profile (pretrained
        here, random init) and each given file's own model, read from the file."""
        given = "; ".join(f"{k} from {s.path.name}: {s.model_text}" for k, s in sorted(self.sources.items()))
        return f"Kim's {self.model_text}" + (f"; {given}" if given else "")

    @property
    def probe_seeds(self) -> tuple[int, ...]:
        return tuple(self.seed + s for s in self.profile.evaluation.probe_seeds)

    # data -----------------------------------------------------------------------------------
    @cached_property
    def ptbxl(self) -> datasets.LabelledSet:
        return datasets.ptbxl(self.profile, progress=self.progress)

    @cached_property
    def cpsc(self) -> datasets.LabelledSet:
        return datasets.cpsc(self.profile, progress=self.progress)

    def corpus(self, variant: Variant):
        """(dataset, per-source counts) the variant pretrains on (weimann: upsampled to its rate when read)."""
        corpus, counts = datasets.pretraining_corpus(self.profile, variant.leads, variant.synthetic,
                                                     progress=self.progress)
        if variant.family == "weimann":
            corpus = weimann_family.Upsampled(corpus, weimann_family.n_samples(self.model_config(variant)))
        return corpus, counts

    # pretraining ------------------------------------------------------------------------------
    def model_config(self, variant: Variant):
        if variant.family == "weimann":
            return weimann_family.model_config(self.profile)
        return self.profile.model.replace(mask=variant.mask, cropa=variant.cropa, n_leads=variant.n_leads,
                                          targets=variant.targets)

    def pretrain_config(self, variant: Variant) -> PretrainConfig:
        recipe = self.recipe(variant)
        if variant.family == "weimann":
            cfg = weimann_family.pretrain_config(self.profile, self.epochs_of(variant), self.seed + variant.seed,
                                                 self.device, self.progress, recipe)
        else:
            plan = self.profile.pretrain
            rb = variant.mask.kind == "random"
            cfg = PretrainConfig(epochs=self.epochs_of(variant), batch_size=plan.batch_rb if rb else plan.batch_mb,
                                 lr=recipe.lr, warmup_epochs=recipe.warmup_epochs, ema_start=recipe.ema_start,
                                 precision=plan.precision, save_every=plan.save_every, seed=self.seed + variant.seed,
                                 device=self.device, progress=self.progress)
        return replace(cfg, num_workers=loader_workers(self.device))

    def run_dir(self, variant: Variant, corpus_fingerprint: str) -> Path:
        """``runs/<profile>/<key>-<hash of model, optimisation and data>``."""
        # The attention implementation is left out: the three are exact, so switching one must not retrain.
        model = {k: v for k, v in self.model_config(variant).to_dict().items() if k != "attention"}
        settings = {"model": model,
                    "pretrain": {k: v for k, v in asdict(self.pretrain_config(variant)).items()
                                 if k not in ("save_every", "device", "progress", "num_workers")},
                    "data": corpus_fingerprint}
        if variant.family == "weimann":  # Kim's settings (and run folders) stay as they were
            settings["input"] = f"FFT-resampled to {weimann_family.n_samples(self.model_config(variant))} samples"
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]
        return self.runs_dir / f"{self.run_key(variant)}-{digest}"

    def pretrained(self, variant: Variant) -> tuple[Path, PretrainResult | None]:
        """The run folder of ``variant``, pretraining (or resuming) it first if it is not finished.

        Returns (run folder, result of this call or None when the run was already complete).
        """
        if not self.can_pretrain:
            raise SystemExit(f"profile {self.profile.name!r} evaluates given encoders and does not pretrain; "
                             f"{variant.key!r} needs pretraining (pass it with -p encoders, or use --profile paper)")
        if variant in self._finished:
            return self._finished[variant], None
        corpus, counts = self.corpus(variant)
        run_dir = self.run_dir(variant, _corpus_fingerprint(corpus, counts))
        if (run_dir / encoder_file(self.epochs_of(variant))).exists():
            self._finished[variant] = run_dir
            return run_dir, None
        result = pretrain(corpus, self.model_config(variant), self.pretrain_config(variant), run_dir)
        if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 writes (the loop does the same)
            return run_dir, result
        done = json.loads((run_dir / RUN_SUMMARY).read_text()) if (run_dir / RUN_SUMMARY).exists() else {}
        (run_dir / RUN_SUMMARY).write_text(json.dumps({
            "variant": self.run_key(variant), "method": variant.method, "epochs": result.epochs, "steps": result.steps,
            "final_loss": result.final_loss, "corpus_records": len(corpus),
            "wall_seconds": round(done.get("wall_seconds", 0.0) + result.wall_time_s, 1),
            "model": self.model_config(variant).to_dict(), "pretrain": asdict(self.pretrain_config(variant)),
            "corpus": counts.to_dict(orient="records")}, indent=1, default=str))
        self._finished[variant] = run_dir
        return run_dir, result

    def finished(self, variants: list[Variant]) -> list[Variant]:
        """Those of ``variants`` whose run this study found complete or trained (the runs a table read)."""
        return [v for v in variants if v in self._finished]

    def pretraining_summary(self, variants: list[Variant]) -> pd.DataFrame:
        """One row per pretrained variant: size of its corpus, steps, final loss, wall time, run folder."""
        rows, seen = [], set()
        for variant in variants:
            run_dir, _ = self.pretrained(variant)
            if run_dir in seen:  # e.g. a search candidate that is also a main run
                continue
            seen.add(run_dir)
            info = json.loads((run_dir / RUN_SUMMARY).read_text())
            cfg = self.model_config(variant)
            described = weimann_family.describe(cfg) if variant.family == "weimann" else {
                "mask": f"{cfg.mask.kind} {cfg.mask.scale}", "cropa": cfg.cropa, "leads": cfg.n_leads,
                "model": f"{cfg.embed_dim} wide, {cfg.depth} blocks, {cfg.num_heads} heads; predictor "
                         f"{cfg.pred_embed_dim}/{cfg.pred_depth}/{cfg.pred_num_heads}"}
            rows.append({"variant": self.run_key(variant), "method": variant.method, **described,
                         "recipe": self.recipe(variant).text(),
                         "corpus_records": info["corpus_records"], "epochs": info["epochs"], "steps": info["steps"],
                         "final_loss": round(info["final_loss"], 4), "wall_seconds": info["wall_seconds"],
                         "run": run_dir.name})
        return pd.DataFrame(rows, columns=RUN_COLUMNS)

    def data_summary(self) -> pd.DataFrame:
        """Every source of the profile prepared; records found / prepared / used, skips by reason.

        Also writes each cache's fingerprints to ``<output_dir>/data/<source>.json`` for the manifest.
        """
        rows = []
        if self.can_pretrain:
            _, counts = self.corpus(RB)
            counts.insert(1, "role", "pretraining")
            rows = counts.to_dict(orient="records")
        for data, source in ((self.ptbxl, self.profile.ptbxl), (self.cpsc, self.profile.cpsc)):
            info = data.cache.info
            c = info["counts"]
            rows.append({"source": source.name, "role": f"downstream ({data.name})", "records_found": c["index"],
                         "prepared": c["kept"], "used_for_pretraining": 0, "skipped": c["skipped"],
                         "skipped_by_reason": c["skipped_by_reason"], "warnings": info.get("warnings", []),
                         "recipe_fingerprint": info["recipe_fingerprint"],
                         "source_fingerprint": info["source_fingerprint"]})
        table = pd.DataFrame(rows)
        out = self.output_dir / "data"  # written only once every source is prepared: a failure leaves no trace
        out.mkdir(parents=True, exist_ok=True)
        for row in rows:
            (out / f"{row['source']}.json").write_text(json.dumps(row, indent=1, default=str))
        return table

    def ludb_validation(self) -> dict:
        """The label delineator's own error against LUDB's cardiologists (records at 250 Hz)."""
        _, summary = validate_on_ludb(self.profile.path(self.profile.ludb), fs=250)
        return summary

    def encoder(self, variant: Variant, pretrained_here: bool = False) -> Encoder:
        """The encoder of ``variant`` (eval mode, drop path 0): the file given for it in ``encoders``, else the
        final student of this study's pretraining (weimann: the target encoder, which their code exports). ``pretrained_here`` ignores the files (the ablations)."""
        source = self.given(variant, pretrained_here)
        key = (variant.key if source is not None else self.run_key(variant), source is None)
        if key not in self._encoders:
            if source is not None:
                self._encoders[key] = load_encoder(source)
            else:
                run_dir, _ = self.pretrained(variant)
                path = run_dir / encoder_file(self.epochs_of(variant))
                if variant.family == "weimann":
                    self._encoders[key] = load_weimann_encoder(path)
                else:
                    enc, _ = load_checkpoint(path, drop_path_rate=0.0)
                    self._encoders[key] = enc.eval()
        return self._encoders[key]

    def inputs(self, variant: Variant, data: datasets.LabelledSet, rows: np.ndarray | None = None) -> np.ndarray:
        """(N, L, T) records of ``data`` (all, or ``rows``) as ``variant``'s encoder reads them: Kim's leads at 250 Hz,
        or all 12 leads FFT-resampled to Weimann's rate."""
        rows = np.arange(len(data.records)) if rows is None else rows
        if variant.family == "weimann":
            cfg = self.model_config(variant)
            return weimann_family.upsampled(data.x(rows, weimann_family.leads_of(cfg)), weimann_family.n_samples(cfg))
        return data.x(rows, variant.leads)

    def random_encoder(self, n_leads: int = 8, seed: int | None = None) -> Encoder:
        """The same architecture, randomly initialised with ``seed`` (default: the study seed; the baseline)."""
        return random_encoder(self.profile.model.replace(n_leads=n_leads), seed=self.seed if seed is None else seed)

    def ecg_feature_labels(self) -> pd.DataFrame:
        """Heart rate and QRS duration of every PTB-XL record (``ecg_features``), cached beside its cache."""
        data = self.ptbxl
        # Keyed by the cache's content fingerprint: changed signals under the same record ids are relabelled.
        cache = data.cache
        path = cache.dir / f"ecg_features_v{ECG_FEATURES_VERSION}-{cache.info['source_fingerprint'][:12]}.csv"
        if path.exists():
            labels = pd.read_csv(path, dtype={"record_id": str})
            if labels["record_id"].tolist() == data.records["record_id"].astype(str).tolist():
                return labels
        fs = self.profile.model.n_samples / 10.0
        labels = ecg_feature_table(data.signals, data.records["record_id"].astype(str).tolist(), fs,
                                   progress=self.progress)
        labels.to_csv(path, index=False)
        return labels

    # features -----------------------------------------------------------------------------------
    def features(self, name: str, encoder: Encoder, data: datasets.LabelledSet,
                 leads: tuple[int, ...] | None = None, readout: str = "mean") -> np.ndarray:
        """(N, F) readout of every record of ``data`` (all model leads, or the model lead positions ``leads``):
        ``mean`` the mean-pooled tokens (the paper's representation), ``stats`` pooled statistics
        (``evaluation.readouts``). Every readout of the profile is computed in one pass, once per (name, data,
        leads) in this kernel."""
        key = (name, data.name, leads)
        if (*key, readout) not in self._features:
            n_leads = encoder.cfg.n_leads
            rows = LEADS_8_OF_12 if n_leads == 8 else tuple(range(12))
            x = data.x(np.arange(len(data.records)), rows)
            device = torch.device(self.device)
            encoder = encoder.to(device).eval()
            readouts = tuple(dict.fromkeys(("mean", *self.profile.evaluation.readouts)))
            out = token_readouts(lambda b: encoder(select_leads(b, leads).to(device), leads), x, readouts,
                                 progress=self.progress)
            for r in readouts:
                self._features[(*key, r)] = out[r]
        return self._features[(*key, readout)]


def _corpus_fingerprint(corpus: datasets.SignalRows, counts) -> str:
    """Identifies the pretraining data: sizes and which rows of which sources."""
    h = hashlib.sha256(counts.drop(columns=["skipped_by_reason"]).to_json().encode())
    for signals, rows in corpus.parts:
        h.update(str(signals.shape).encode())
        h.update(np.asarray(rows).tobytes())
    return h.hexdigest()[:16]
