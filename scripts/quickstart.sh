#!/usr/bin/env bash
# heed in one command: installs what is missing and builds (scripts/setup.sh), trains the
# quickstart translation model — human-written dates to ISO dates ("saturday, 14 march 1998" ->
# "1998-03-14"), a small Transformer, a few minutes on two cores (configs/quickstart_dates.json) —
# evaluates it on the test split and translates a few dates from stdin.
#
#   scripts/quickstart.sh            train runs/quickstart_dates, or continue it
#   scripts/quickstart.sh --fresh    delete runs/quickstart_dates first and train from scratch
#
# Running it again is cheap: a run directory that already has checkpoints is continued with
# --resume (exactly where it stopped, e.g. after Ctrl-C; a finished run has nothing left to do),
# then the evaluation and the translations run again. Environment: BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

FRESH=0
for arg in "$@"; do
  case $arg in
    --fresh) FRESH=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "quickstart: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

BUILD_DIR=${BUILD_DIR:-build}
HEED=$BUILD_DIR/heed
RUN=runs/quickstart_dates

echo "== 1/4 setup: dependencies and build"
scripts/setup.sh

echo "== 2/4 train configs/quickstart_dates.json -> $RUN"
[ "$FRESH" = 1 ] && rm -rf "$RUN"
RESUME=()
if compgen -G "$RUN/checkpoints/step_*.safetensors" > /dev/null; then
  echo "   (continuing the existing run with --resume; --fresh starts over)"
  RESUME=(--resume)
fi
"$HEED" train configs/quickstart_dates.json "${RESUME[@]}"

echo "== 3/4 evaluate on data/dates/test"
"$HEED" eval "$RUN" --split test

echo "== 4/4 translate a few dates (stdin -> stdout)"
DATES=$(printf '%s\n' "saturday, 14 march 1998" "3/14/98" "MARCH 14TH '98" \
                      "the 1st of january 2000" "29.02.2024")
echo "$DATES" | "$HEED" translate "$RUN" | paste <(echo "$DATES") - |
  awk -F'\t' '{ printf "   %-26s -> %s\n", $1, $2 }'

