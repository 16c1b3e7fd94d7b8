#!/usr/bin/env bash
# Render the report in headless Chromium to PNG files for a person to look at.
# usage: tools/report_check.sh [out/<pipeline>/report] [PNG_DIR]
set -euo pipefail
REPORT=${1:-out/il1-covid19/report}
PNG=${2:-out/report-check}
command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
mkdir -p "$PNG"
profile=$(mktemp -d)
shot() { # file png width height
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --disable-quic --no-first-run --user-data-dir="$profile" --hide-scrollbars \
    --window-size="$3,$4" --screenshot="$2" "file://$(realpath "$1")" >/dev/null 2>&1
}
shot "$REPORT/index.html" "$PNG/index.png" 1200 6000
for f in "$REPORT"/*.svg; do
  shot "$f" "$PNG/$(basename "${f%.svg}").png" 1300 900
done
rm -rf "$profile"
ls "$PNG"
