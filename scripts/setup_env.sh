#!/usr/bin/env bash
# Create .venv (once) and install torch + this package into it. Idempotent and quick when
# nothing changed: a stamp records the hash of pyproject.toml and the torch spec.
#
#   TORCH_SPEC     what to pip-install for torch (default: torch==2.13.0, the CPU build on
#                  these machines). GPU users: TORCH_SPEC=torch TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124
#   TORCH_INDEX_URL  optional extra index for TORCH_SPEC
#   VENV           where the environment lives (default: .venv in the repo)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV:-$repo/.venv}"
torch_spec="${TORCH_SPEC:-torch==2.13.0}"
py="${PYTHON:-python3}"

stamp="$venv/.ecgjepa-setup"
want="$(cat "$repo/pyproject.toml" | sha256sum | cut -c1-16) $torch_spec"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi

echo "[setup] environment in $venv (torch: $torch_spec)" >&2
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
# This workplace's pip configuration names local indexes that may be absent; pip warns about each.
quiet_missing_index() { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }
extra=()
[ -n "${TORCH_INDEX_URL:-}" ] && extra=(--index-url "$TORCH_INDEX_URL")
# torch first and alone: installing the package before it would resolve "torch>=2.3" to the
# newest build with several GB of CUDA wheels.
"${pip[@]}" "${extra[@]}" "$torch_spec" 2> >(quiet_missing_index)
"${pip[@]}" -e "$repo[dev]" 2> >(quiet_missing_index)
"$venv/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "$want" > "$stamp"
echo "[setup] done" >&2
