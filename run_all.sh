#!/usr/bin/env bash
# Run the notebook series end to end (default: the offline smoke profile on CPU).
#   ./run_all.sh [--profile smoke|cpu-study|paper] [--only 01,03] [-p key value ...]
# Sets up .venv on first use (see scripts/setup_env.sh; ECGJEPA_PYTHON=/path/to/python uses an
# existing environment instead), then executes notebooks/NN_*.ipynb with papermill into
# results/<profile>/ and writes results/<profile>/manifest.json.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="$("$repo/scripts/setup_env.sh")"
cd "$repo"
exec "$py" -m ecgjepa_core.run "$@"
