#!/usr/bin/env bash
# Check a CUDA machine before a long run, from a bare clone: find or install a CUDA build of torch,
# then run `python -m ecgjepa_core.gpu_check` (golden tests on the GPU, the paper configuration
# trained in fp32 / fp16 / bf16, the reference path against the default path), which writes one JSON.
#
#   scripts/gpu_check.sh [OUTPUT.json] [gpu_check options, e.g. --steps 400]
#
# OUTPUT.json defaults to $OUT/gpu_check.json where $OUT is set, else results/gpu_check.json.
# PYTHON=... uses that interpreter as it is. Otherwise a python3 whose torch sees CUDA is used as it is;
# failing that, .venv-gpu gets torch from TORCH_INDEX_URL (default: the CUDA 12.4 wheels).
set -euo pipefail
cd "$(dirname "$0")/.."

out="${OUT:-results}/gpu_check.json"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then out="$1"; shift; fi

cuda_torch() {  # does this interpreter's torch see a CUDA device?
  "$1" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null
}

venv=.venv-gpu
if [ -n "${PYTHON:-}" ]; then
  py="$PYTHON"
elif [ -x "$venv/bin/python" ] && cuda_torch "$venv/bin/python"; then
  py="$venv/bin/python"
elif cuda_torch python3; then
  py=python3
else
  echo "gpu_check.sh: no CUDA torch found; installing one into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "${TORCH_SPEC:-torch}" --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cu124}"
  py="$venv/bin/python"
fi
cuda_torch "$py" || { echo "gpu_check.sh: torch in $py sees no CUDA device (driver, or a CPU build of torch)" >&2; exit 1; }

# This package from the source tree; its dependencies only where some are missing (pip may be offline:
# then the parts that need them report the missing module in the JSON).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! "$py" -c 'import numpy, pandas, scipy, tqdm, pytest, wfdb' 2>/dev/null; then
  "$py" -m pip install -q --retries 1 --timeout 20 -e ".[dev]" \
    || echo "gpu_check.sh: pip could not install the dependencies; continuing with what is there" >&2
fi

echo "gpu_check.sh: $("$py" -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0))')" >&2
exec "$py" -m ecgjepa_core.gpu_check --device cuda --json "$out" "$@"
