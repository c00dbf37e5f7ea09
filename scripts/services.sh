#!/usr/bin/env bash
# Make sure Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, database "test") run, and
# LibreOffice is there for the print test.
# Installs the Debian packages when they are missing (needs root, as on CI).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if ! command -v redis-server >/dev/null; then
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq redis-server >/dev/null
  fi
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  ver=$(ls /etc/postgresql | sort -V | tail -1)
  conf=/etc/postgresql/$ver/main/pg_hba.conf
  # trust auth on loopback for the test database (as the development machines have)
  if ! grep -q "henrei-ci" "$conf"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust # henrei-ci' "$conf"
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && break; sleep 0.2; done
fi
if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null 2>&1 \
    || $SUDO -u postgres psql -c 'create database test' >/dev/null 2>&1 || true
fi

# LibreOffice, poppler and the fonts a clerk's PC renders with: tests/test_print.py prints a
# workbook to PDF the way a clerk would. Best effort: without them that one test is skipped.
if ! command -v soffice >/dev/null || ! command -v pdftotext >/dev/null; then
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends \
      libreoffice-calc-nogui poppler-utils fonts-noto-cjk fonts-crosextra-carlito >/dev/null; } \
    || echo "LibreOffice could not be installed: the PDF print test will be skipped" >&2
fi

# Debian's Chromium for the web page's browser tests (tests/test_web.py drives /usr/bin/chromium
# with Playwright; no browser is downloaded). Best effort: without it those tests are skipped.
if [ ! -x /usr/bin/chromium ]; then
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
    || echo "chromium could not be installed: the browser tests will be skipped" >&2
fi
