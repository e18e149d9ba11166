#!/usr/bin/env bash
# The test command of the README and of CI: set up .venv if needed, then run pytest.
# Extra arguments go to pytest (e.g. ./test.sh -m "not slow" -k golden).
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# ECGJEPA_PYTHON=/path/to/python tests an existing environment instead of .venv (scripts/setup_env.sh).
py="$("$repo/scripts/setup_env.sh")" || exit 1
cd "$repo"
"$py" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
