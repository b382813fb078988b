#!/usr/bin/env bash
# Set up shizi on a fresh machine, then read the bundled sample image.
#   - installs the Debian packages it needs when missing (poppler-utils, a CJK font, python3-venv)
#   - creates .venv in the repository root and installs shizi into it (editable, with train/serve/dev extras)
#   - reads src/shizi/samples/sample.png and writes build/sample-overlay.png
#   - with --tests: also Debian's chromium (the web-page test drives it headless with playwright) and
#     the language model's running text (scripts/fetch_lm_corpus.sh; a test rebuilds the model from it)
#   - with --train: also the Debian font packages the synthetic training data is rendered with (the
#     recipe in the model cards; without them training silently sees fewer faces)
#   - with --tests or --train: Debian's English word list (wamerican) for synthetic text; with --tests a
#     Latin face (fonts-dejavu-core) for the second captcha generator
# Usage: bash scripts/setup.sh [--no-sample] [--tests] [--train]
set -euo pipefail
cd "$(dirname "$0")/.."

NO_SAMPLE=0
TESTS=0
TRAIN=0
for arg in "$@"; do
  case "$arg" in
    --no-sample) NO_SAMPLE=1 ;;
    --tests) TESTS=1 ;;
    --train) TRAIN=1 ;;
  esac
done
PY=${PYTHON:-python3}

need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v fc-list >/dev/null 2>&1 || need+=(fontconfig)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ! -x .venv/bin/python ] && ! "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then
  need+=(python3-venv)
fi
if [ "$TESTS" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  need+=(chromium)
fi
# a Latin face for the second captcha generator (tests check it renders the same image per seed)
if [ "$TESTS" = 1 ] && [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  need+=(fonts-dejavu-core)
fi
# English words for synthetic text (tests check the text mix the recipe describes)
if { [ "$TESTS" = 1 ] || [ "$TRAIN" = 1 ]; } && [ ! -e /usr/share/dict/words ]; then
  need+=(wamerican)
fi
if [ "$TRAIN" = 1 ]; then
  TRAIN_FONTS=(fonts-noto-cjk fonts-noto-cjk-extra fonts-wqy-zenhei fonts-arphic-uming fonts-arphic-ukai
               fonts-arphic-gbsn00lp fonts-arphic-gkai00mp fonts-lxgw-wenkai fonts-droid-fallback
               fonts-dejavu-core fonts-dejavu-extra fonts-liberation2)
  for p in "${TRAIN_FONTS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
  done
fi
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "setup: installing ${need[*]} (apt)" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: warning: please install ${need[*]} with your package manager" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
echo "setup: installing shizi into .venv" >&2
.venv/bin/python -m pip install -q -e '.[train,serve,dev]'
sha256sum pyproject.toml > .venv/.shizi-setup-stamp
if [ "$TESTS" = 1 ] && command -v apt-get >/dev/null 2>&1; then
  bash scripts/fetch_lm_corpus.sh || echo "setup: warning: no LM corpus; its rebuild test will skip" >&2
fi

if [ "$NO_SAMPLE" = 1 ]; then exit 0; fi
if .venv/bin/python -c "from shizi.models import default_model as d; d('detection'); d('recognition')" 2>/dev/null; then
  mkdir -p build
  .venv/bin/shizi read src/shizi/samples/sample.png --overlay build/sample-overlay.png
  echo "setup: done; overlay picture in build/sample-overlay.png" >&2
else
  echo "setup: shizi is installed, but no trained models are in src/shizi/models/ yet;" \
       "the sample read is skipped (see 'shizi models')" >&2
fi
