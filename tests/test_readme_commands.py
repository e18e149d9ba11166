"""The README's commands work as written in a fresh shell with the environment activated: the cheap ones
(``--help``, the environment check) are run; every other one is checked for what it names (the module, the
script, the profile, the variant keys, the notebook parameters and numbers)."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ecgjepa_core.paths import REPO_ROOT
from ecgjepa_core.pretrain import variant_keys
from ecgjepa_core.run import PROFILES, declared_parameters, select_notebooks

README = (REPO_ROOT / "README.md").read_text()
PROGRAMS = ("python", "papermill", "jupytext", "torchrun", "./run_all.sh", "./test.sh", "scripts/", "source")
CHEAP = ("--help", "--help-notebook", "ecgjepa_core.environment check")


def _fenced() -> list[str]:
    """Every command line of the README's bash blocks (continuations joined, comments dropped)."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split(" #", 1)[0].strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def _inline() -> list[str]:
    """Commands quoted in the README's text (code spans that start with a program of this project)."""
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.DOTALL))
    return [s for s in spans if s.startswith(PROGRAMS[:-1]) and " " in s]


COMMANDS = list(dict.fromkeys(_fenced() + _inline()))


def _words(command: str) -> list[str]:
    """The command's words after any ``VAR=value`` prefix (of its last ``&&`` part)."""
    words = shlex.split(command.split("&&")[-1].split("|")[0])
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        words = words[1:]
    return words


def test_the_first_screen_says_what_you_get_and_how_long():
    first = "\n".join(README.splitlines()[:25])
    for said in ("./run_all.sh", "./test.sh", "source .venv/bin/activate", "results/smoke/REPORT.md",
                 "results/cpu-study/REPORT.md", "pipeline check", "min"):
        assert said in first, said
    assert COMMANDS[:3] == ["./run_all.sh", "./test.sh", "source .venv/bin/activate"]


def test_commands_use_the_activated_environment():
    """One form throughout: `python -m …` with the environment active, never a path into .venv."""
    assert [c for c in COMMANDS if ".venv/bin/" in c and not c.startswith("source ")] == []


@pytest.mark.parametrize("command", [c for c in COMMANDS if any(k in c for k in CHEAP)])
def test_cheap_commands_run_as_written(command):
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    activate = Path(sys.prefix) / "bin" / "activate"
    if activate.exists():
        line = f"source {shlex.quote(str(activate))} && {command}"
    else:  # an environment without an activate script (ECGJEPA_PYTHON): its interpreter's folder first on PATH
        env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
        line = command
    done = subprocess.run(["bash", "-c", line], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.strip()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_names_what_exists(command):
    words = _words(command)
    program = words[0]
    if program in ("python", "torchrun") and "-m" in words:
        module = words[words.index("-m") + 1]
        assert importlib.util.find_spec(module) is not None, module
    elif program == "python" and len(words) > 1:
        assert (REPO_ROOT / words[1]).is_file(), words[1]
    elif program.startswith(("./", "scripts/")):
        assert os.access(REPO_ROOT / program, os.X_OK), program
    profile = words[words.index("--profile") + 1] if "--profile" in words else "smoke"
    if "--profile" in words:
        assert profile in PROFILES
    if "--variant" in words:
        assert words[words.index("--variant") + 1] in variant_keys(profile)
    if "--only" in words:
        select_notebooks(words[words.index("--only") + 1])  # SystemExit for a number that names no notebook
    if program in ("./run_all.sh",) or "ecgjepa_core.run" in words:
        declared = {k for params in declared_parameters(select_notebooks(None)).values() for k in params}
        for i, word in enumerate(words):
            if word == "-p":
                assert words[i + 1] in declared, words[i + 1]
