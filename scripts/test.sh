#!/usr/bin/env bash
# Run shizi's tests; sets the machine up first (scripts/setup.sh) when .venv is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || ! sha256sum --status -c .venv/.shizi-setup-stamp 2>/dev/null \
   || ! command -v pdftotext >/dev/null 2>&1 \
   || ! .venv/bin/python -c "import shizi, pytest" >/dev/null 2>&1; then
  bash scripts/setup.sh --no-sample
fi
exec .venv/bin/python -m pytest -q "$@"
