#!/usr/bin/env bash
# Prepare the Python environment that runs the notebooks and tests; print its interpreter's path
# on stdout (run_all.sh and test.sh use it; all messages go to stderr).
#
# Default: create .venv (once) and install torch and this package into it, with the versions pinned
# by requirements/lock-cpu.txt as pip constraints. Idempotent and quick when nothing changed: a stamp
# records the hashes of pyproject.toml and the lock, and the torch spec.
#
#   ECGJEPA_PYTHON   use this existing interpreter (a conda environment, a CUDA venv) instead: nothing is
#                    created or installed. It must import this repository's ecgjepa_core
#                    (there: pip install -e ".[dev]" -c requirements/lock-cpu.txt). Packages that differ
#                    from the lock are counted on stderr.
#   ECGJEPA_LOCK     constraints file (default: requirements/lock-cpu.txt); "none" installs the newest
#                    versions pyproject.toml allows.
#   TORCH_SPEC       what to pip-install for torch (default: torch==2.13.0). GPU users:
#                    TORCH_SPEC=torch==2.13.0 TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126
#   TORCH_INDEX_URL  optional index for TORCH_SPEC (e.g. .../whl/cpu for the CPU-only build)
#   VENV             where the environment lives (default: .venv in the repo)
#   PYTHON           the interpreter that creates the venv (default: python3)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ -n "${ECGJEPA_PYTHON:-}" ]; then
  case "$ECGJEPA_PYTHON" in
    */*) py="$(cd "$(dirname "$ECGJEPA_PYTHON")" && pwd)/$(basename "$ECGJEPA_PYTHON")" ;;
    *) py="$(command -v "$ECGJEPA_PYTHON" || echo "$ECGJEPA_PYTHON")" ;;
  esac
  # Run from / so that the check sees the installed package, not the repository's folder.
  if ! (cd / && "$py" -c 'import pathlib, sys, ecgjepa_core, papermill, ipykernel
sys.exit(pathlib.Path(ecgjepa_core.__file__).resolve().parents[1] != pathlib.Path(sys.argv[1]).resolve())' "$repo") 2>/dev/null; then
    echo "[setup] ECGJEPA_PYTHON=$py does not import this repository's ecgjepa_core (with papermill and ipykernel)." >&2
    echo "[setup] Install it there first: $py -m pip install -e \"$repo[dev]\" -c \"$repo/requirements/lock-cpu.txt\"" >&2
    exit 1
  fi
  differ="$(cd / && "$py" -m ecgjepa_core.environment check | tail -n 1)" || true
  echo "[setup] using $py; $differ" >&2
  echo "$py"
  exit 0
fi

venv="${VENV:-$repo/.venv}"
torch_spec="${TORCH_SPEC:-torch==2.13.0}"
lock="${ECGJEPA_LOCK:-$repo/requirements/lock-cpu.txt}"
constraints=()
if [ "$lock" != "none" ]; then
  [ -f "$lock" ] || { echo "[setup] lock file $lock not found (ECGJEPA_LOCK=none installs without one)" >&2; exit 1; }
  constraints=(-c "$lock")
fi

stamp="$venv/.ecgjepa-setup"
want="$(cat "$repo/pyproject.toml" "${constraints[@]:1}" | sha256sum | cut -c1-16) $torch_spec lock=$lock"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "$venv/bin/python"
  exit 0
fi

# A venv left half-made by an interrupted set-up (no pip yet) is made again.
if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "[setup] first use: building the Python environment in $venv (a few minutes, once; constraints: $lock)" >&2
  echo "[setup] 1/4 creating the virtual environment with ${PYTHON:-python3}" >&2
  "${PYTHON:-python3}" -m venv --clear "$venv" >&2
else
  echo "[setup] pyproject.toml, the lock or the torch spec changed: updating $venv (constraints: $lock)" >&2
  echo "[setup] 1/4 keeping the virtual environment" >&2
fi
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
# pip repeats one warning per configured index folder that does not exist; keep the log readable.
quiet_missing_index() { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }
extra=()
[ -n "${TORCH_INDEX_URL:-}" ] && extra=(--index-url "$TORCH_INDEX_URL")
# torch first and alone: installing the package before it would resolve "torch>=2.3" to the
# newest build with several GB of CUDA wheels.
# Another index may not host the locked versions of torch's own dependencies: install torch from it
# unconstrained; the next step brings those dependencies to the lock.
torch_constraints=("${constraints[@]}")
[ -n "${TORCH_INDEX_URL:-}" ] && torch_constraints=()
echo "[setup] 2/4 installing PyTorch ($torch_spec${TORCH_INDEX_URL:+ from $TORCH_INDEX_URL}; the largest download)" >&2
"${pip[@]}" "${torch_constraints[@]}" "${extra[@]}" "$torch_spec" >&2 2> >(quiet_missing_index)
echo "[setup] 3/4 installing ecgjepa_core and its dependencies (numpy, scipy, pandas, wfdb, h5py, neurokit2," \
     "scikit-learn, matplotlib, papermill, jupytext, pytest, ...)" >&2
"${pip[@]}" "${constraints[@]}" -e "$repo[dev]" >&2 2> >(quiet_missing_index)
echo "[setup] 4/4 registering the python3 Jupyter kernel the notebooks run in" >&2
"$venv/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "$want" > "$stamp"
echo "[setup] done: $("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'), activate it with: source $venv/bin/activate" >&2
echo "$venv/bin/python"
