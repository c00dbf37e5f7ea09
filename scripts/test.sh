#!/usr/bin/env bash
# Set everything up (venv, Redis, PostgreSQL) and run the whole test suite (lint, types, tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
scripts/services.sh   # Redis and PostgreSQL for the worker tests
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache   # the import contract: [tool.importlinter] in pyproject.toml
exec .venv/bin/pytest "$@"
