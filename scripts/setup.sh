#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install henrei with the pinned dependencies.
# Usage: scripts/setup.sh [dev]   — "dev" also installs the test and lint tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "henrei needs Python 3.11 or newer (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "dev" ]; then
  .venv/bin/python -m pip install --quiet -e '.[dev]'
else
  .venv/bin/python -m pip install --quiet -e .
fi
# byte-compile henrei's own packages now (an editable install does not): the first run
# would otherwise compile them, and every run where PYTHONDONTWRITEBYTECODE is set
.venv/bin/python -m compileall -q worker rules tasks > /dev/null
