#!/usr/bin/env bash
# Screenshots of heed's attention pages for the README, from trained runs, into docs/images/:
#
#   attention_transformer.png  runs/multi30k_de_en_transformer  (configs/multi30k_de_en_transformer.json)
#                              cross-attention of the last layer, mean of the heads
#   attention_bahdanau.png     runs/multi30k_de_en_bahdanau     (configs/multi30k_de_en_bahdanau.json)
#   attention_han.png          runs/imdb_han                    (configs/imdb_han.json)
#   training_curves.png        runs/multi30k_de_en_transformer  (heed plot)
#
# A run that does not exist is reported with the command that makes it, and skipped; where a
# quickstart run exists instead (runs/quickstart_dates, runs/quickstart_reviews) its picture is
# taken as attention_quickstart_dates.png / attention_quickstart_reviews.png.
#
#   scripts/make_screenshots.sh               the pictures of the runs that exist
#   scripts/make_screenshots.sh --synthetic   the same pictures of the browser test's synthetic
#                                             pages, into build/screenshots/ (never docs/): checks
#                                             the script without trained models
#
# Environment: RUNS (default runs), OUT (default docs/images), CHROMIUM, BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
HEED="$BUILD_DIR/heed"
RUNS=${RUNS:-runs}
OUT=${OUT:-docs/images}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[ -x "$CHROMIUM" ] || { echo "make_screenshots: $CHROMIUM not found (scripts/browser_test.sh installs it)"; exit 1; }

# screenshot PAGE.html[#view] OUT.png WIDTH HEIGHT
screenshot() {
  local profile
  profile=$(mktemp -d)
  timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --hide-scrollbars --user-data-dir="$profile" --window-size="$3,$4" --screenshot="$2" \
    "file://$(realpath "${1%%#*}")$([[ $1 == *#* ]] && echo "#${1#*#}")" >/dev/null 2>&1 || true
  rm -rf "$profile"
  [ -s "$2" ] || { echo "make_screenshots: no screenshot of $1"; return 1; }
  echo "make_screenshots: $2 ($(du -k "$2" | cut -f1) KB)"
}

if [ "${1:-}" = "--synthetic" ]; then
  OUT="$BUILD_DIR/screenshots"
  mkdir -p "$OUT"
  cmake --build "$BUILD_DIR" -j "${HEED_JOBS:-2}" --target heed_browser_test >/dev/null
  HEED_BROWSER_OUT="$WORK/pages" "$BUILD_DIR/tests/heed_browser_test" --gtest_brief=1 >/dev/null
  screenshot "$WORK/pages/transformer.html#example=2&group=cross&layer=last" "$OUT/attention_transformer.png" 1280 900
  screenshot "$WORK/pages/rnn.html#example=2&marks" "$OUT/attention_bahdanau.png" 1100 800
  screenshot "$WORK/pages/han.html" "$OUT/attention_han.png" 1100 520
  screenshot "$WORK/pages/curves.html" "$OUT/training_curves.png" 1180 760
  echo "make_screenshots: synthetic pictures in $OUT (not for the README)"
  exit 0
fi

[ -x "$HEED" ] || { echo "make_screenshots: build heed first ($HEED)"; exit 1; }
"$HEED" --help 2>/dev/null | grep -qE '^ +attention ' ||
  { echo "make_screenshots: this heed has no 'attention' command yet (it comes with the trainer)"; exit 1; }
mkdir -p "$OUT"
missing=()

# attention RUN NAME VIEW WIDTH HEIGHT TEXT...
attention() {
  local run=$1 name=$2 view=$3 width=$4 height=$5
  shift 5
  local args=()
  for text in "$@"; do args+=(--text "$text"); done
  "$HEED" attention "$run" "${args[@]}" --out "$WORK/$name.html" >/dev/null
  screenshot "$WORK/$name.html#$view" "$OUT/$name.png" "$width" "$height"
}

M30K_SENTENCES=("Ein Mann mit einem roten Helm fährt mit dem Fahrrad einen Berg hinunter."
                "Zwei kleine Hunde spielen im Schnee."
                "Eine Frau verkauft Obst auf einem Markt in der Stadt.")
IMDB_REVIEW="I expected a lot from this film. The first hour is slow and the dialogue is clumsy. But the ending is wonderful, and the lead actress is simply brilliant. I would watch it again."

if [ -d "$RUNS/multi30k_de_en_transformer" ]; then
  attention "$RUNS/multi30k_de_en_transformer" attention_transformer "group=cross&layer=last" 1280 900 "${M30K_SENTENCES[@]}"
  "$HEED" plot "$RUNS/multi30k_de_en_transformer" --out "$WORK/curves.html" >/dev/null
  screenshot "$WORK/curves.html" "$OUT/training_curves.png" 1180 760
else
  missing+=("heed train configs/multi30k_de_en_transformer.json   # attention_transformer.png, training_curves.png")
fi
if [ -d "$RUNS/multi30k_de_en_bahdanau" ]; then
  attention "$RUNS/multi30k_de_en_bahdanau" attention_bahdanau "marks" 1100 800 "${M30K_SENTENCES[@]}"
else
  missing+=("heed train configs/multi30k_de_en_bahdanau.json      # attention_bahdanau.png")
fi
if [ -d "$RUNS/imdb_han" ]; then
  attention "$RUNS/imdb_han" attention_han "" 1100 520 "$IMDB_REVIEW"
else
  missing+=("heed train configs/imdb_han.json                     # attention_han.png")
fi
if [ -d "$RUNS/quickstart_dates" ]; then
  attention "$RUNS/quickstart_dates" attention_quickstart_dates "group=cross&layer=last&marks" 1100 760 \
    "monday, january 26, 2026" "5TH MARCH 71" "11 may 2035"
fi
if [ -d "$RUNS/quickstart_reviews" ]; then
  attention "$RUNS/quickstart_reviews" attention_quickstart_reviews "" 1100 420 \
    "i hated the cast but we liked the film for sure!" "we did not love the food."
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "make_screenshots: runs still to train (then run this script again):"
  printf '  %s\n' "${missing[@]}"
fi
