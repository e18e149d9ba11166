"""The third bad-input catalogue, parameters: every ``-p`` value that would fail later fails before the first
notebook, in one line naming the key and what it accepts (``ecgjepa_core.ranges``).

Beyond the issue's own cases (epochs -1 / 0, a negative batch or lr, ``.nan``, heads that do not divide the
width, an absurd width, num_heads 0, invalid YAML, a misspelled key), 37 cases:

| case | behaviour |
| --- | --- |
| lr ``.inf``; warm-up -1; precision fp8; save_every 0; seeds 0; ablation_epochs 0 | range named |
| drop path 1.5; mlp_ratio 0; depth 10000; init_std < 0 | range named |
| predictor heads that do not divide its width; a width that is not a multiple of 4 | the model's own check |
| patch_size 25 (the caches hold 2,500 samples) | refused naming both |
| probe_seeds [] or with -1; low_shot 0 or 1.5; bootstrap 0; cpsc_folds 1; segmentation_epochs of 2 items; a negative fine-tuning lr | range named |
| finetune_on naming no evaluation ("standard splt") | the evaluations of the profile listed |
| mask ratio (0.5, 0.3) or kind "blocky" | refused |
| probe_recipe "codes"; Weimann heads 5 for width 48; Weimann task "superdiag"; probe_steps 0 | refused |
| band-pass (40, 0.5); dtype int8; synthetic -1; ptbxl_splits ["papers"]; reader "ptb" | refused |
| a key given twice; overrides that are a list; a string for an int | refused |
| -p seed -1; -p seed 1.5 | refused before any notebook |
| ``-p overrides`` / ``-p encoders`` text as typed: cut short, a key twice | one line (was a YAML traceback, or the last key) |
| --profile paper-eval with only mb given | names the missing row |
"""

from __future__ import annotations

import json

import pytest

from ecgjepa_core import run
from ecgjepa_core.study.overrides import OverrideError, apply_overrides, parse_overrides
from ecgjepa_core.study.profiles import get_profile

DECLARED = {"02_t.ipynb": {"profile": "str", "output_dir": "str", "seed": "int", "encoders": "str",
                           "overrides": "str"}}


def refused_before_any_notebook(given: dict, *expected: str) -> str:
    """``run.check_parameters`` refuses ``given`` in one line holding every ``expected`` text."""
    with pytest.raises(SystemExit) as info:
        run.check_parameters("smoke", given, DECLARED)
    message = str(info.value.code)
    assert "\n" not in message and all(e in message for e in expected), message
    return message


ISSUE = [  # the issue's own cases: accepted before, then trained with, or failing later without the key
    ('{"pretrain.epochs": -1}', "pretrain.epochs=-1 is below 1", "from 1 to 100000"),
    ('{"pretrain.epochs": 0}', "pretrain.epochs=0 is below 1", "from 1 to 100000"),
    ('{"pretrain.batch_rb": -4}', "pretrain.batch_rb=-4 is below 1", "from 1 to 65536"),
    ('{"pretrain.lr_rb": -0.001}', "pretrain.lr_rb=-0.001 is not above 0", "> 0 and ≤ 10"),
    ('{"pretrain.lr_rb": .nan}', "pretrain.lr_rb=nan is not finite", "> 0 and ≤ 10"),
    ('{"model.num_heads": 0}', "model.num_heads=0 is below 1", "from 1 to 128"),  # was ZeroDivisionError
    ('{"model.num_heads": 5}', "model.num_heads=5", "encoder width 32 is not divisible by its 5 heads"),
    ('{"model.embed_dim": 100000000}', "model.embed_dim=100000000 is above 8192", "from 4 to 8192"),  # was 12 TB
    ('{"pretrain.epochs": 3', "overrides: not valid JSON or YAML at line 1, column 22", "expected ',' or '}'"),
    ('{"pretrain.epoch": 3}', "unknown override key(s) ['pretrain.epoch'] (pretrain.epoch: did you mean "
                              "pretrain.epochs or"),
]

RANGES = [
    ('{"pretrain.lr_mb": .inf}', "pretrain.lr_mb=inf is not finite", "> 0 and ≤ 10"),
    ('{"pretrain.warmup_epochs": -1}', "pretrain.warmup_epochs=-1 is below 0", "from 0 to 100000"),
    ('{"pretrain.precision": "fp8"}', "pretrain.precision='fp8'", "one of 'fp32', 'bf16', 'fp16'"),
    ('{"pretrain.save_every": 0}', "pretrain.save_every=0 is below 1", "allowed"),
    ('{"pretrain.seeds": 0}', "pretrain.seeds=0 is below 1", "from 1 to 100"),
    ('{"pretrain.ablation_epochs": 0}', "pretrain.ablation_epochs=0", "none or an integer"),
    ('{"model.drop_path_rate": 1.5}', "model.drop_path_rate=1.5 is not below 1", "≥ 0 and < 1"),
    ('{"model.mlp_ratio": 0}', "model.mlp_ratio=0.0 is not above 0", "> 0 and ≤ 16"),
    ('{"model.depth": 10000}', "model.depth=10000 is above 64", "from 1 to 64"),
    ('{"model.init_std": -0.02}', "model.init_std=-0.02 is not above 0", "allowed"),
    ('{"model.pred_num_heads": 3}', "model.pred_num_heads=3", "predictor width 16 is not divisible by its 3 heads"),
    ('{"model.pred_embed_dim": 18}', "model.pred_embed_dim=18", "widths must be multiples of 4"),
    ('{"model.patch_size": 25}', "model.patch_size=25", "1250 samples", "[2500]"),
    ('{"evaluation.probe_seeds": []}', "evaluation.probe_seeds=()", "fewer than 1 items"),
    ('{"evaluation.probe_seeds": [0, -1]}', "evaluation.probe_seeds=(0, -1) item 2 (-1) is below 0", "allowed"),
    ('{"evaluation.low_shot": [0.0]}', "evaluation.low_shot=(0.0,) item 1 (0.0) is not above 0", "allowed"),
    ('{"evaluation.low_shot": [1.5]}', "item 1 (1.5) is above 1", "evaluation.low_shot"),
    ('{"evaluation.bootstrap": 0}', "evaluation.bootstrap=0 is below 1", "allowed"),
    ('{"evaluation.cpsc_folds": 1}', "evaluation.cpsc_folds=1 is below 2", "from 2 to 100"),
    ('{"evaluation.segmentation_epochs": [1, 1]}', "evaluation.segmentation_epochs=(1, 1) has 2 items, not 3",
     "allowed"),
    ('{"evaluation.finetune_lrs": [0.001, -1]}', "evaluation.finetune_lrs", "item 2 (-1) is not above 0"),
    ('{"evaluation.finetune_on": ["standard splt"]}', "evaluation.finetune_on names no evaluation",
     "'standard splt'", "'standard split'"),
    ('{"evaluation.mask_ratios": [["random", [0.5, 0.3]]]}', "evaluation.mask_ratios", "0 <= lo <= hi < 1"),
    ('{"evaluation.mask_ratios": [["blocky", [0.1, 0.2]]]}', "evaluation.mask_ratios",
     "item 1 ('blocky') is not among the choices"),
    ('{"evaluation.probe_recipe": "codes"}', "evaluation.probe_recipe='codes'", "'code-standardised'"),
    ('{"weimann.num_heads": 5}', "weimann.num_heads=5", "Weimann encoder width 48 is not divisible by its 5 heads"),
    ('{"weimann.tasks": ["superdiag"]}', "weimann.tasks", "'superdiagnostic'"),
    ('{"weimann.probe_steps": 0}', "weimann.probe_steps=0 is below 1", "allowed"),
    ('{"ptbxl.recipe.bandpass": [40, 0.5]}', "ptbxl.recipe.bandpass", "the low edge must be below the high edge"),
    ('{"ptbxl.recipe.dtype": "int8"}', "ptbxl.recipe.dtype='int8'", "'float16', 'float32'"),
    ('{"synthetic": -1}', "synthetic=-1 is below 0", "allowed"),
    ('{"ptbxl_splits": ["papers"]}', "ptbxl_splits=('papers',)", "'paper', 'standard'"),
    ('{"ptbxl.reader": "ptb"}', "ptbxl.reader='ptb'", "'ptbxl'"),
    ('{"pretrain.epochs": 1, "pretrain.epochs": 2}', "overrides: at line 1", "['pretrain.epochs'] given more than once"),
    ('[1, 2]', "overrides must be a mapping of dotted keys", "[1, 2]"),
    ('{"pretrain.batch_mb": "16"}', "override pretrain.batch_mb='16': expected int", "got str"),
]


@pytest.mark.parametrize("case", ISSUE + RANGES, ids=[case[0][:40] for case in ISSUE + RANGES])
def test_an_override_out_of_range_fails_before_any_notebook_naming_key_and_range(case):
    overrides, *expected = case
    refused_before_any_notebook({"overrides": overrides}, "-p overrides:", *expected)
    with pytest.raises(OverrideError):  # the same check where a Study applies them
        apply_overrides(get_profile("smoke"), parse_overrides(overrides))


@pytest.mark.parametrize("text, expected", [('{"pretrain.epochs": 3', "not valid JSON or YAML at line 1, column 22"),
                                            ('{"pretrain.epochs": 1, "pretrain.epochs": 2}', "given more than once"),
                                            ('{"mb": "a.pt", "mb": "b.pt"}', "['mb'] given more than once")])
def test_command_line_text_reaches_the_check_as_text(text, expected):
    """``-p KEY TEXT`` as typed: invalid YAML or a repeated key is one line, not a YAML traceback or the last key."""
    key = "encoders" if '"mb"' in text else "overrides"
    refused_before_any_notebook(run.parse_pairs([[key, text]]), f"-p {key}:", expected)


@pytest.mark.parametrize("seed, expected", [(-1, "-p seed=-1 is below 0 (allowed: an integer from 0 to"),
                                            (1.5, "-p seed 1.5: expected int, got float")])
def test_a_seed_out_of_range(seed, expected):
    refused_before_any_notebook({"seed": seed}, expected)


def test_paper_eval_with_one_main_row_missing(tmp_path):
    from ecgjepa_core.checkpoint import save_checkpoint
    from ecgjepa_core.models.config import ModelConfig
    from ecgjepa_core.models.ecgjepa import Encoder

    mb = save_checkpoint(tmp_path / "mb.pt", Encoder(ModelConfig(embed_dim=32, depth=1, num_heads=4)))
    with pytest.raises(SystemExit, match=r"--profile paper-eval evaluates encoder files and pretrains nothing: give "
                                         r"-p encoders for rb \(e\.g\."):
        run.require_encoder_files("paper-eval", {"encoders": json.dumps({"mb": {"path": str(mb)}})})
    run.require_encoder_files("smoke", {})  # a profile that pretrains needs none
