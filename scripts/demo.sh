#!/usr/bin/env bash
# Set everything up and reconcile the bundled sample month (no server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/henrei demo --out "${1:-out/demo}"
