#!/usr/bin/env bash
# Fetch the running Chinese text the language model is built from into data/lm_corpus (git-ignored):
# LibreOffice's Chinese help and GNOME's Chinese user docs, from Debian. The packages are downloaded
# and unpacked, not installed (libreoffice-help-zh-cn would pull in LibreOffice). No Debian
# documentation is used: the evaluation text comes from Debian's own documentation packages.
# Usage: bash scripts/fetch_lm_corpus.sh      then: python -m shizi.train lm OUT --corpus data/lm_corpus
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=("libreoffice-help-zh-cn=4:7.4.7-1+deb12u14" "gnome-user-docs=43.0-2")
OUT=data/lm_corpus
if [ -f "$OUT/PACKAGES" ] && [ "$(cat "$OUT/PACKAGES")" = "${PACKAGES[*]}" ]; then
  echo "fetch_lm_corpus: $OUT is up to date" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "${PACKAGES[@]}" 2>/dev/null) \
  || (apt-get update -qq && cd "$tmp" && apt-get download -q "${PACKAGES[@]}")
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
rm -rf "$OUT"
mkdir -p "$OUT"
cp -r "$tmp/root/usr/share/libreoffice/help/zh-CN" "$OUT/libreoffice-help"
cp -r "$tmp/root/usr/share/help/zh_CN" "$OUT/gnome-user-docs"
echo "${PACKAGES[*]}" > "$OUT/PACKAGES"
echo "fetch_lm_corpus: $(find "$OUT" -type f | wc -l) files in $OUT" >&2
