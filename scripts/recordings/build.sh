#!/usr/bin/env bash
# Build a folder of real recorded voices (label/*.wav, one label per language) from the Debian package
# klettres-data (GPL-2+: the clips are not shipped in this repository; this script fetches and converts them).
# Usage: OUT=runs/user-data/data/recordings MAX_PER_CLASS=30 scripts/recordings/build.sh
# Env knobs: OUT (default: runs/user-data/data/recordings), WORK=/tmp/recordings-work, VENV=/tmp/rec-venv,
#            SR=16000 (0 = keep native rate), MAX_PER_CLASS=0 (0 = no cap).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(realpath -m "${OUT:-runs/user-data/data/recordings}")"; WORK="${WORK:-/tmp/recordings-work}"; VENV="${VENV:-/tmp/rec-venv}"
SR="${SR:-16000}"; MAX_PER_CLASS="${MAX_PER_CLASS:-0}"
PKGVER="4:22.12.3-1"
SHA256="1186d257a19e84230856baea0b0b1ded8be9195080fcdb2588970b5cd937f5a8"

mkdir -p "$WORK/deb" && cd "$WORK/deb"
apt-get update -qq
apt-get download "klettres-data=$PKGVER" || { echo "pinned $PKGVER not served; taking current klettres-data" >&2; apt-get download klettres-data; }
DEB="$(ls -t klettres-data_*_all.deb | head -1)"
echo "$SHA256  $DEB" | sha256sum -c - || echo "WARNING: $DEB differs from the version this folder was built from" >&2
rm -rf klettres && mkdir klettres && dpkg-deb -x "$DEB" klettres

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q soundfile==0.14.0 numpy==2.4.6 scipy==1.17.1

"$VENV/bin/python" "$HERE/convert.py" "$WORK/deb/klettres/usr/share/klettres" "$OUT" \
    --sr "$SR" --max-per-class "$MAX_PER_CLASS"
cp klettres/usr/share/doc/klettres-data/copyright "$OUT/COPYRIGHT.klettres-data"
