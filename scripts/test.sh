#!/usr/bin/env bash
# Run shizi's tests; sets the machine up first (scripts/setup.sh --tests) when .venv is missing or out
# of date, or chromium (for the web-page test), the English word list (for the text-mix test) or the language
# model's running text (for its rebuild test, scripts/fetch_lm_corpus.sh) is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || ! sha256sum --status -c .venv/.shizi-setup-stamp 2>/dev/null \
   || ! command -v pdftotext >/dev/null 2>&1 || [ ! -e /usr/share/dict/words ] \
   || { command -v apt-get >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; } \
   || { command -v apt-get >/dev/null 2>&1 && [ ! -f data/lm_corpus/PACKAGES ]; } \
   || ! .venv/bin/python -c "import shizi, pytest" >/dev/null 2>&1; then
  bash scripts/setup.sh --no-sample --tests
fi
exec .venv/bin/python -m pytest -q "$@"
