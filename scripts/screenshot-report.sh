#!/usr/bin/env bash
# Renders an HTML report of `hyoka report` in headless Chromium and saves a
# screenshot (PNG), to check by eye that the page and its charts render.
#
# Usage:
#   scripts/screenshot-report.sh [REPORT.html [OUT.png]]
#
# Without REPORT.html, builds one from plans/ with `cargo run -- report`
# into target/report/. The window size is WIDTH x HEIGHT pixels (default
# 1280 x 6000; WIDTH=390 shows the phone layout). With PDF=1 the page is
# also printed to OUT.pdf (the print layout, A4).
#
# Installs nothing: it uses /usr/bin/chromium (or $CHROMIUM) when present.
# On Debian: apt-get update && apt-get install -y chromium fonts-noto-cjk
# (the CJK fonts are what the Japanese text is drawn with).
set -euo pipefail

cd "$(dirname "$0")/.."
report="${1:-}"
out="${2:-}"
if [[ -z "$report" ]]; then
  mkdir -p target/report
  report=target/report/report.html
  cargo run --quiet -- report plans/ --format html -o "$report"
fi
[[ -n "$out" ]] || out="${report%.html}.png"

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  echo "error: no Chromium at $chromium" >&2
  echo "install it with: apt-get update && apt-get install -y chromium fonts-noto-cjk" >&2
  exit 1
fi

url="file://$(realpath "$report")"
width="${WIDTH:-1280}"
height="${HEIGHT:-6000}"
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
       --disable-extensions --disable-background-networking)
"$chromium" "${flags[@]}" --window-size="$width,$height" --screenshot="$(realpath -m "$out")" "$url" 2>/dev/null
echo "wrote $out"
if [[ "${PDF:-0}" == 1 ]]; then
  pdf="${out%.png}.pdf"
  "$chromium" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$(realpath -m "$pdf")" "$url" 2>/dev/null
  echo "wrote $pdf"
fi
