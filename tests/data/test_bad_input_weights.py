"""The third bad-input catalogue, weights files given with ``-p encoders``: every file is read when the parameter
is checked, so a damaged, misnamed or mis-sized file fails before the first notebook, in one line naming it.

| case | behaviour |
| --- | --- |
| 64 bytes flipped inside a tensor of an authors' ``.pth`` | refused naming the file and the zip member (issue; torch loaded it) |
| the file cut in half | one line naming the file (issue) |
| NaN weights (issue); infinite weights in our format | refused naming the keys |
| a row named twice in the short form (issue) or in the JSON form | refused |
| a folder given as the file; an empty file; random bytes; a torch file holding a list | the path and what it is |
| Weimann & Conrad's file as mb; our Kim checkpoint as weimann; a Weimann run's ``checkpoint.pt`` as mb | "give it for the row …" |
| our pretraining ``checkpoint.pt`` of a Kim run as mb (issue) | loads its student, equal to the run's encoder file |
| num_heads given against the file's stored heads; num_heads not dividing the authors' width | refused |
| an authors' file with an extra key | refused before the first notebook (was: in the first table) |
| the short form on an authors' file 64 wide (issue 20) | refused, asking for num_heads; at the paper's 768 width: 16 heads |
| captions (issue 20) | describe the file's model, not the profile's |
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch

from ecgjepa_core import run
from ecgjepa_core.checkpoint import ours_to_official, save_checkpoint
from ecgjepa_core.models.config import ModelConfig
from ecgjepa_core.models.ecgjepa import Encoder
from ecgjepa_core.paths import golden_dir
from ecgjepa_core.study.encoders import load_encoder, parse_encoders
from ecgjepa_core.training.pretrain import STATE_FORMAT

OFFICIAL_MB = golden_dir() / "official_mb_tiny_encoder.pth"
WEIMANN_FILE = golden_dir() / "weimann" / "weimann_tiny_encoder.min.pt"
SMALL = ModelConfig(embed_dim=32, depth=1, num_heads=4, drop_path_rate=0.0)
DECLARED = {"02_t.ipynb": {"profile": "str", "output_dir": "str", "seed": "int", "encoders": "str"}}


def refused(spec: str | dict, *expected: str) -> str:
    """``-p encoders spec`` fails before any notebook in one line holding every ``expected`` text."""
    value = spec if isinstance(spec, str) else json.dumps(spec)
    with pytest.raises(SystemExit) as info:
        run.check_parameters("smoke", {"encoders": value}, DECLARED)
    message = str(info.value.code)
    assert message.startswith("-p encoders: ") and "\n" not in message, message
    assert all(e in message for e in expected), message
    return message


def _ours(path: Path, **weights: float) -> Path:
    """Our checkpoint of a small encoder; ``weights`` set one tensor's first value (e.g. ``norm.weight=nan``)."""
    torch.manual_seed(0)
    encoder = Encoder(SMALL)
    with torch.no_grad():
        for key, value in weights.items():
            encoder.state_dict()[key].view(-1)[0] = value
    return save_checkpoint(path, encoder)


def _flip_inside_a_tensor(src: Path, dest: Path) -> str:
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        member = max(z.infolist(), key=lambda i: i.file_size)
    start = member.header_offset + 30 + len(member.filename) + len(member.extra) + 100
    for i in range(64):
        data[start + i] ^= 0xFF
    dest.write_bytes(bytes(data))
    return member.filename


def test_a_damaged_tensor_is_refused_naming_file_and_member(tmp_path):
    bad = tmp_path / "multiblock_epoch100.pth"
    member = _flip_inside_a_tensor(OFFICIAL_MB, bad)
    refused({"mb": {"path": str(bad), "num_heads": 4}}, str(bad), f"zip member {member} fails its CRC-32 check")


def test_a_truncated_file_is_one_line_naming_it(tmp_path):
    cut = tmp_path / "cut.pth"
    cut.write_bytes(OFFICIAL_MB.read_bytes()[: OFFICIAL_MB.stat().st_size // 2])
    refused({"mb": {"path": str(cut), "num_heads": 4}}, f"{cut}: unreadable checkpoint", "truncated")


def test_nan_weights_in_an_authors_file(tmp_path):
    state = torch.load(OFFICIAL_MB, weights_only=True)
    state["encoder"]["W_P.weight"][0, 0] = float("nan")
    torch.save(state, tmp_path / "nan.pth")
    refused({"mb": {"path": str(tmp_path / "nan.pth"), "num_heads": 4}}, "NaN or infinite weights in patch_embed.weight")


def test_infinite_weights_in_our_file(tmp_path):
    path = _ours(tmp_path / "inf.pt", **{"norm.weight": float("inf")})
    refused(f"mb={path}", f"{path}: NaN or infinite weights in norm.weight")


def test_a_row_named_twice_in_the_short_form(tmp_path):
    a, b = _ours(tmp_path / "a.pt"), _ours(tmp_path / "b.pt")
    refused(f"mb={a},mb={b}", "row 'mb' given twice", str(a), str(b))


def test_a_row_named_twice_in_the_json_form(tmp_path):
    a = _ours(tmp_path / "a.pt")
    refused(f'{{"mb": "{a}", "mb": "{a}"}}', "encoders: at line 1", "['mb'] given more than once")


def test_a_folder_given_as_the_file(tmp_path):
    (tmp_path / "weights").mkdir()
    refused(f"mb={tmp_path / 'weights'}", f"{tmp_path / 'weights'}: is a folder, expected an encoder file")


@pytest.mark.parametrize("content, problem", [(b"", "unreadable checkpoint (empty file)"),
                                              (bytes(range(256)) * 8, "unreadable checkpoint (2048 bytes")])
def test_a_file_that_is_no_checkpoint(tmp_path, content, problem):
    (tmp_path / "w.pth").write_bytes(content)
    refused(f"rb={tmp_path / 'w.pth'}", f"{tmp_path / 'w.pth'}: {problem}")


def test_a_torch_file_of_something_else(tmp_path):
    torch.save([torch.zeros(3)], tmp_path / "list.pt")
    refused(f"rb={tmp_path / 'list.pt'}", "neither an ECG-JEPA encoder of the authors nor a checkpoint of this project")


def test_weimanns_file_given_for_mb():
    refused(f"mb={WEIMANN_FILE}", "holds Weimann & Conrad's model (weimann file); give it for the row weimann")


def test_our_kim_checkpoint_given_for_weimann(tmp_path):
    path = _ours(tmp_path / "kim.pt")
    refused(f"weimann={path}", "holds Kim's ECG-JEPA (ecgjepa file); give it for the row rb or mb")


def test_a_weimann_runs_state_given_for_mb(tmp_path):
    torch.save({"format": STATE_FORMAT, "model": {}, "model_config": {"dim": 48, "depth": 2, "num_heads": 4}},
               tmp_path / "checkpoint.pt")
    refused(f"mb={tmp_path / 'checkpoint.pt'}", "(weimann-state file); give it for the row weimann")


def test_our_pretraining_state_loads_its_student(tmp_path):
    from dataclasses import replace

    from ecgjepa_core.checkpoint import load_checkpoint
    from ecgjepa_core.training.pretrain import CHECKPOINT, encoder_file, pretrain

    from ..test_pretrain import CFG, TINY, _dataset

    pretrain(_dataset(), TINY, replace(CFG, epochs=1), tmp_path / "run")
    source = parse_encoders(f"mb={tmp_path / 'run' / CHECKPOINT}")["mb"]  # was "not an ECG-JEPA encoder?"
    assert source.num_heads == TINY.num_heads and source.model.kind == "kim-state"
    expected, _ = load_checkpoint(tmp_path / "run" / encoder_file(1), drop_path_rate=0.0)
    x = torch.randn(2, 8, TINY.n_samples, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(load_encoder(source).representation(x), expected.eval().representation(x))


def test_heads_given_against_the_files_own(tmp_path):
    path = _ours(tmp_path / "ours.pt")
    refused({"mb": {"path": str(path), "num_heads": 8}}, "num_heads 8, but", "stores a model of 4 heads")


def test_heads_that_do_not_divide_the_authors_width():
    refused({"mb": {"path": str(OFFICIAL_MB), "num_heads": 5}}, "num_heads 5 does not divide the width 64")


def test_an_authors_file_with_an_extra_key(tmp_path):
    state = torch.load(OFFICIAL_MB, weights_only=True)
    state["encoder"]["head.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "extra.pth")
    refused({"mb": {"path": str(tmp_path / "extra.pth"), "num_heads": 4}}, "unexpected keys: head.weight")


def test_the_short_form_asks_for_the_heads_of_an_authors_file_not_of_the_papers_width():
    message = refused(f"mb={OFFICIAL_MB}", "authors' encoder 64 wide, 2 blocks", "do not store the head count",
                      '"num_heads": 4')
    assert "16 heads belong to its 768-wide encoder" in message


def test_the_short_form_keeps_the_papers_heads_for_the_papers_width(tmp_path):
    torch.manual_seed(0)
    wide = Encoder(ModelConfig(embed_dim=768, depth=1, num_heads=16, drop_path_rate=0.0))
    torch.save({"encoder": ours_to_official(wide.state_dict(), "encoder"), "epoch": 100}, tmp_path / "wide.pth")
    source = parse_encoders(f"mb={tmp_path / 'wide.pth'}")["mb"]
    assert source.num_heads == 16 and source.model_text == "encoder 768 wide, 1 blocks, 16 heads"


def test_captions_describe_the_files_model(monkeypatch, tmp_path):
    from ecgjepa_core.study.registry import caption, table_spec
    from ecgjepa_core.study.study import Study

    study = Study("smoke", tmp_path, encoders={"mb": {"path": str(OFFICIAL_MB), "num_heads": 4}}, progress=False)
    text = caption(study, table_spec("table1_linear"))
    assert "Kim's encoder 32 wide, 2 blocks, 4 heads; mb from official_mb_tiny_encoder.pth: encoder 64 wide, " \
           "2 blocks, 4 heads." in text
    assert study.identity()["encoders"]["mb"]["num_heads"] == 4


def test_paper_eval_without_encoders_fails_before_any_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "execute", lambda *a, **k: pytest.fail("a notebook ran"))
    with pytest.raises(SystemExit, match="--profile paper-eval evaluates encoder files and pretrains nothing: give "
                                         "-p encoders for rb and mb"):
        run.main(["--profile", "paper-eval", "--only", "02", "--results", str(tmp_path)])
    assert not any(tmp_path.iterdir())
