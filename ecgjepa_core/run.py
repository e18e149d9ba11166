"""Run the notebook series with papermill and write the manifest: ``python -m ecgjepa_core.run``.

``run_all.sh`` calls this after setting up the environment. Every ``-p key value`` is checked against
the notebooks' typed parameters cells before the first notebook starts (an unknown key, a wrong type, a
value out of its range, a bad ``encoders`` file or ``overrides`` value fails at once, naming the key);
each notebook then gets ``profile``, ``output_dir`` and the parameters it declares. Executed copies go
to ``results/<profile>/notebooks/``; the first failing notebook stops the run with its name and cell,
and its executed copy is left in a temporary folder, so a failed run never overwrites committed
results. The manifest is updated after each notebook under a lock on the results folder, re-read and
replaced atomically, so concurrent ``--only`` runs each add their entries.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from ecgjepa_core import run_messages as messages
from ecgjepa_core.environment import lock_identity, lock_mismatches
from ecgjepa_core.errors import UserFileError, what_is
from ecgjepa_core.files import atomic_write_text, read_json
from ecgjepa_core.paths import REPO_ROOT
from ecgjepa_core.ranges import KEY, count
from ecgjepa_core.report.provenance import git_state
from ecgjepa_core.study.profiles import MAX_SEED, get_profile, require_device

PROFILES = ("smoke", "cpu-study", "paper", "paper-eval")
RESERVED = {"profile": "--profile", "output_dir": "--results"}  # set by this runner, not by -p
# Ranges of the notebooks' own parameters (the profile's fields declare theirs beside them).
PARAMETER_RANGES = {"seed": count(0, MAX_SEED)[KEY]}
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
MANIFEST = "manifest.json"
PACKAGES = ("ecgjepa-core", "torch", "numpy", "scipy", "pandas", "h5py", "wfdb", "neurokit2", "scikit-learn",
            "matplotlib", "papermill", "jupytext", "nbclient")


class NotebookFailed(RuntimeError):
    """A notebook of the series raised; the message names it and the failing cell."""


def _parse_value(text: str) -> Any:
    """Papermill-style typing of a command-line value: int, float, bool, None, else str. JSON / YAML text stays
    text: the parameters that take it (``encoders``, ``overrides``) parse it themselves, refusing invalid YAML
    and repeated keys in one line."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    words = {"true": True, "false": False, "none": None, "null": None}
    if text.lower() in words:
        return words[text.lower()]
    return text


def parse_pairs(pairs: list[list[str]]) -> dict[str, Any]:
    """``[["seed", "1"], ["lr", "1e-3"]]`` -> ``{"seed": 1, "lr": 0.001}``."""
    return {key: _parse_value(value) for key, value in pairs}


def select_notebooks(only: str | None, notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """The series in order; ``only`` = comma-separated numbers (``"03,05"``) keeps those."""
    books = sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = {w.strip().zfill(2) for w in only.split(",") if w.strip()}
        unknown = wanted - {b.name[:2] for b in books}
        if unknown:
            raise SystemExit(f"--only: no notebook numbered {sorted(unknown)} in {notebook_dir}")
        books = [b for b in books if b.name[:2] in wanted]
    return books


def execute(notebook: Path, out_dir: Path, parameters: dict[str, Any], failed_dir: Path | None = None,
            progress_stream=None) -> float:
    """Run one notebook with papermill into ``out_dir``; returns wall seconds; raises NotebookFailed naming the
    cell. It executes into ``failed_dir`` (default: ``out_dir``) and moves the copy to ``out_dir`` only on
    success, so that a failure leaves an earlier executed copy in place."""
    import nbformat
    import papermill as pm
    import zmq
    from jupyter_client import KernelManager
    from traitlets.config import Config

    from ecgjepa_core.notebook_kernel import QuietShutdownKernelManager

    # Encrypted kernel channels (CurveZMQ) where pyzmq and jupyter_client support them; the kernel
    # otherwise warns on the terminal that it talks over plain TCP.
    encrypt = zmq.has("curve") and KernelManager.class_traits().get("transport_encryption") is not None
    kernel_config = Config({"KernelManager": {"transport_encryption": "auto"}}) if encrypt else Config()
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = (failed_dir or out_dir) / notebook.name
    start = time.perf_counter()
    try:
        # coalesce_streams: one stdout and one stderr output per cell, a progress bar's redraws
        # reduced to its final line.
        # The kernel's stderr (the progress bars of pretraining, fine-tuning and feature extraction: steps,
        # epochs, ETA) streams to the terminal as it comes; the notebook keeps its own copy.
        pm.execute_notebook(str(notebook), str(staged), parameters=parameters,
                            kernel_name="python3", cwd=str(notebook.parent), progress_bar=False,
                            log_output=False, stderr_file=progress_stream, config=kernel_config,
                            coalesce_streams=True, kernel_manager_class=QuietShutdownKernelManager)
    except pm.PapermillExecutionError as err:
        executed = nbformat.read(staged, as_version=4)
        code = [c for c in executed.cells if c.cell_type == "code"]
        failed = next((i for i, c in enumerate(code) if any(o.output_type == "error" for o in c.get("outputs", []))), 0)
        first_line = (code[failed].source.strip().splitlines() or [""])[0] if code else ""
        raise NotebookFailed(
            f"{notebook.name} failed in code cell {failed + 1} of the executed copy (`{first_line}`): "
            f"{err.ename}: {err.evalue}. Executed copy: {staged}") from None
    if staged != out_dir / notebook.name:
        shutil.move(staged, out_dir / notebook.name)
    return time.perf_counter() - start


def _hardware() -> dict[str, Any]:
    import torch

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 if hasattr(os, "sysconf") else None
    return {"platform": platform.platform(), "python": sys.version.split()[0], "cpu": cpu,
            "cores": os.cpu_count(), "memory_gib": round(mem_gib, 1) if mem_gib else None,
            "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def _versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _data_fingerprints(results_dir: Path) -> dict[str, Any]:
    """Fingerprints the notebooks recorded (``results/<profile>/data/*.json``)."""
    folder = results_dir / "data"
    if not folder.is_dir():
        return {}
    return {p.stem: read_json(p, "data fingerprint") for p in sorted(folder.glob("*.json"))}


def write_manifest(results_dir: Path, profile: str, parameters: dict[str, Any],
                   runs: list[dict[str, Any]], complete: bool = True) -> Path:
    """``manifest.json``. ``runs``: one entry per notebook (status, seconds, commit), possibly from
    several calls with ``--only``; ``complete``: every notebook of the series has run ok."""
    manifest = {"profile": profile, "complete": complete,
                "written_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "git": git_state(), "parameters": parameters, "notebooks": runs,
                "wall_seconds": round(sum(r["seconds"] for r in runs), 1), "packages": _versions(),
                "hardware": _hardware(), "lock": {**lock_identity(), "differs": {k: list(v) for k, v in lock_mismatches().items()}}, "data": _data_fingerprints(results_dir)}
    return atomic_write_text(results_dir / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")


def kept_runs(results_dir: Path, rerun: set[str]) -> list[dict[str, Any]]:
    """The previous manifest's entries of the notebooks this call does not run, each with the commit and
    parameters it ran with: ``--only`` adds to the record of the series and never drops earlier entries.
    A manifest that is unreadable (empty, truncated, not one) is a UserFileError naming it, never overwritten."""
    path = results_dir / MANIFEST
    if not path.exists() and not path.is_symlink():
        return []
    old = read_json(path, "manifest")
    entries = old.get("notebooks") if isinstance(old, dict) else None
    if not isinstance(entries, list) or not all(isinstance(r, dict) and "notebook" in r for r in entries):
        raise UserFileError(path, "not a manifest of this runner (no list of notebook entries): move it away to "
                                  "start a new record")
    commit, parameters = (old.get("git") or {}).get("commit"), old.get("parameters")
    return [{"commit": commit, "parameters": parameters, **r} for r in entries if r["notebook"] not in rerun]


def record_notebook(results_dir: Path, profile: str, parameters: dict[str, Any], entry: dict[str, Any],
                    series: set[str]) -> Path:
    """Add ``entry`` (one notebook's run) to the manifest: under an exclusive lock on the results folder the
    manifest is re-read, so that entries another ``--only`` run wrote meanwhile are kept, and replaced
    atomically. ``complete``: every notebook of ``series`` ran ok, all with one commit and one set of parameters."""
    fd = os.open(results_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        runs = sorted(kept_runs(results_dir, {entry["notebook"]}) + [entry], key=lambda r: r["notebook"])
        ok = {r["notebook"] for r in runs if r.get("status") == "ok"}
        one_run = len({(r.get("commit"), json.dumps(r.get("parameters"), sort_keys=True)) for r in runs}) == 1
        return write_manifest(results_dir, profile, parameters, runs, complete=ok >= series and one_run)
    finally:
        os.close(fd)  # releases the lock


def declared_parameters(notebooks: list[Path]) -> dict[str, dict[str, str]]:
    """``{notebook name: {parameter: inferred type name}}`` from each notebook's parameters cell."""
    import papermill as pm

    return {nb.name: {k: v["inferred_type_name"] for k, v in pm.inspect_notebook(str(nb)).items()}
            for nb in notebooks}


_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def check_parameters(profile: str, given: dict[str, Any], declared: dict[str, dict[str, str]]) -> dict[str, Any]:
    """``given`` checked against the notebooks' parameters and normalised; SystemExit naming the problem.

    ``encoders`` and ``overrides`` are parsed here (files must exist, keys and types must fit the profile)
    and passed on as JSON text.
    """
    from ecgjepa_core.study.encoders import EncoderSpecError, canonical_encoders, load_encoder, parse_encoders
    from ecgjepa_core.study.overrides import OverrideError, apply_overrides, parse_overrides

    known = {k: t for params in declared.values() for k, t in params.items()}
    out = {}
    for key, value in given.items():
        if key in RESERVED:
            raise SystemExit(f"-p {key}: set it with {RESERVED[key]}, not as a parameter")
        if key not in known:
            raise SystemExit(f"-p {key}: no notebook declares this parameter; parameters: "
                             f"{', '.join(sorted(k for k in known if k not in RESERVED))}")
        if key in ("encoders", "overrides"):
            try:
                parsed = parse_encoders(value) if key == "encoders" else parse_overrides(value)
                if key == "overrides":
                    apply_overrides(get_profile(profile), parsed)
                for source in parsed.values() if key == "encoders" else ():
                    load_encoder(source)  # every key, shape and weight checked now, not in the first notebook
            except (EncoderSpecError, OverrideError, UserFileError) as err:
                raise SystemExit(f"-p {key}: {err}") from None
            if key == "encoders":  # absolute paths: the notebooks run in notebooks/, not where the user typed
                out[key] = canonical_encoders(parsed) if parsed else ""
            else:
                out[key] = json.dumps(value, sort_keys=True) if isinstance(value, dict) else (value or "")
            continue
        expected = known[key]
        if expected in _TYPES and (not isinstance(value, _TYPES[expected])
                                   or (expected in ("int", "float") and isinstance(value, bool))):
            raise SystemExit(f"-p {key} {value!r}: expected {expected}, got {type(value).__name__}")
        if key in PARAMETER_RANGES and (reason := PARAMETER_RANGES[key].problem(value)):
            raise SystemExit(f"-p {PARAMETER_RANGES[key].message(key, value, reason)}")
        out[key] = value
    return out


def require_encoder_files(profile: str, given: dict[str, Any]) -> None:
    """SystemExit before any notebook where the profile pretrains nothing and ``-p encoders`` lacks a main row."""
    from ecgjepa_core.study.encoders import rows_without_file
    from ecgjepa_core.study.overrides import apply_overrides, parse_overrides

    sources = json.loads(given["encoders"]) if given.get("encoders") else {}
    if missing := rows_without_file(apply_overrides(get_profile(profile), parse_overrides(given.get("overrides"))),
                                    sources):
        raise SystemExit(f"--profile {profile} evaluates encoder files and pretrains nothing: give -p encoders for "
                         f"{' and '.join(missing)} (e.g. -p encoders mb=/w/multiblock_epoch100.pth,"
                         "rb=/w/random_epoch100.pth; README, Encoders from anywhere)")


def results_folder(path: Path) -> Path:
    """``--results`` resolved; SystemExit naming it when it exists but is no folder."""
    path = path.resolve()
    if path.exists() and not path.is_dir():
        raise SystemExit(f"--results {path}: is {what_is(path)}, expected a folder (it is created if missing)")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="run_all.sh", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke", choices=PROFILES)
    ap.add_argument("--only", help="comma-separated notebook numbers, e.g. 01,03")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                    help="notebook parameter (repeatable): seed, encoders, overrides, allow_mixed")
    ap.add_argument("--results", type=Path, default=None, help="results folder (default results/<profile>)")
    args = ap.parse_args(argv)

    notebooks = select_notebooks(args.only)
    if not notebooks:
        raise SystemExit(f"no notebooks found in {NOTEBOOK_DIR}")
    declared = declared_parameters(notebooks)
    given = check_parameters(args.profile, parse_pairs(args.parameter), declared)
    require_encoder_files(args.profile, given)
    require_device(get_profile(args.profile))
    results_dir = results_folder(args.results or REPO_ROOT / "results" / args.profile)
    parameters = {"profile": args.profile, "output_dir": str(results_dir), **given}
    try:
        kept_runs(results_dir, set())  # an unreadable manifest stops the run before any notebook
    except UserFileError as err:
        raise SystemExit(f"run_all: {err}") from None
    commit = git_state()["commit"]
    series = {nb.name for nb in select_notebooks(None)}
    failed_dir = Path(tempfile.mkdtemp(prefix=f"ecgjepa-{args.profile}-"))

    def record(entry: dict[str, Any]) -> Path:
        return record_notebook(results_dir, args.profile, parameters, entry, series)

    path = None
    previous = messages.previous_seconds(results_dir)  # read before this run rewrites the manifest
    print(messages.overview(len(notebooks), args.profile, results_dir, previous, [nb.name for nb in notebooks]),
          flush=True)
    started = time.time()
    try:
        for index, nb in enumerate(notebooks, 1):
            print(messages.starting(index, len(notebooks), nb.name, previous), flush=True)
            own = {k: v for k, v in parameters.items() if k in RESERVED or k in declared[nb.name]}
            try:
                seconds = execute(nb, results_dir / "notebooks", own, failed_dir=failed_dir,
                                  progress_stream=sys.stderr)
            except NotebookFailed as err:
                if path is not None:  # a run that failed before its first notebook leaves earlier results alone
                    record({"notebook": nb.name, "status": "failed", "seconds": 0.0, "commit": commit,
                            "parameters": parameters})
                print(f"[run_all] FAILED: {err}", file=sys.stderr)
                return 1
            path = record({"notebook": nb.name, "status": "ok", "seconds": round(seconds, 1), "commit": commit,
                           "parameters": parameters})
            print(messages.finished(index, len(notebooks), nb.name, seconds), flush=True)
    except UserFileError as err:  # the manifest or a data fingerprint became unreadable during the run
        raise SystemExit(f"run_all: {err}") from None
    finally:
        if not any(failed_dir.iterdir()):  # the staging folder keeps only a failed notebook's executed copy
            failed_dir.rmdir()
    print("\n".join(messages.closing(results_dir, started, len(notebooks), get_profile(args.profile).notice)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
