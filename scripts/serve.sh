#!/usr/bin/env bash
# The clerks' web page on one PC: set up .venv (first time), then `henrei serve`.
# Data (uploads, the SQLite database, sessions) go to ./data unless HENREI_DATA_DIR says
# otherwise. Without a reachable Redis, jobs run inside the page's process.
# Create the first user once: .venv/bin/henrei users add LOGIN --role clinic_admin --clinic ID
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/henrei ] || scripts/setup.sh
exec .venv/bin/henrei serve "$@"
