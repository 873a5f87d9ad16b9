#!/usr/bin/env bash
# Scores a trained run the way docs/results.md reports it, and appends one JSON line per score to
# RUN_DIR/results.jsonl (with the heed commit, the checkpoint and the command):
#
#   scripts/results.sh RUN_DIR [--average N] [--beam B] [--length-penalty X] [--threads T]
#
# Translation (Multi30k): averages the last N checkpoints (heed average; default 5, 0: use the
# run's best checkpoint), then BLEU/chrF on the validation split and on test2016, test2017 and
# test2018 (flickr) and test2017 mscoco, with the run's beam and length penalty unless given.
# Classification: accuracy on the validation split and on the test split when the run has one.
# A run trained without validation (train.valid_every 0) skips the validation split.
# Data: scripts/get_data.sh. Environment: BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
[ $# -ge 1 ] || { usage >&2; exit 2; }
case $1 in -h|--help) usage; exit 0 ;; esac
RUN=$1; shift
AVERAGE=5
EVAL_ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --average) AVERAGE=$2; shift 2 ;;
    --beam) EVAL_ARGS+=(--beam "$2"); shift 2 ;;
    --length-penalty) EVAL_ARGS+=(--length-penalty "$2"); shift 2 ;;
    --threads) EVAL_ARGS+=(--threads "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "results: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

HEED=${BUILD_DIR:-build}/heed
[ -x "$HEED" ] || { echo "results: $HEED not found; run scripts/setup.sh" >&2; exit 1; }
[ -f "$RUN/config.json" ] || { echo "results: $RUN/config.json not found: not a run directory" >&2; exit 1; }
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
TASK=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["task"])' "$RUN/config.json")
# A run trained without validation (train.valid_every 0) has no validation split to score.
VALIDATES=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["train"]["valid_every"] > 0))' "$RUN/config.json")

MODEL=$RUN
if [ "$TASK" = translation ] && [ "$AVERAGE" -gt 0 ]; then
  MODEL=$("$HEED" average "$RUN" --last "$AVERAGE")
fi

# score NAME EVAL_ARGUMENTS...: runs heed eval, prints its report, appends the JSON line.
score() {
  local name=$1; shift
  local out
  echo "== $name"
  out=$("$HEED" eval "$MODEL" "$@" "${EVAL_ARGS[@]}")
  echo "$out" | sed '$d'
  python3 - "$RUN/results.jsonl" "$name" "$COMMIT" "$MODEL" "heed eval $MODEL $* ${EVAL_ARGS[*]}" \
      "$(echo "$out" | tail -n 1)" <<'EOF'
import json, sys, time
path, name, commit, model, command, result = sys.argv[1:]
record = {"set": name, **json.loads(result), "model": model, "commit": commit,
          "command": command.strip(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
with open(path, "a") as f:
    f.write(json.dumps(record) + "\n")
EOF
}

if [ "$TASK" = translation ]; then
  read -r SRC TGT < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]; print(d["src_lang"], d["tgt_lang"])' "$RUN/config.json")
  M30K=data/multi30k/raw
  [ "$VALIDATES" = 1 ] && score valid --split valid
  for t in test_2016_flickr test_2017_flickr test_2018_flickr test_2017_mscoco; do
    if [ -f "$M30K/$t.$SRC.gz" ] && [ -f "$M30K/$t.$TGT.gz" ]; then
      score "$t" --src "$M30K/$t.$SRC.gz" --ref "$M30K/$t.$TGT.gz"
    else
      echo "== $t: $M30K/$t.$SRC.gz or .$TGT.gz not found (scripts/get_data.sh multi30k), skipped"
    fi
  done
else
  [ "$VALIDATES" = 1 ] && score valid --split valid
  if python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["data"].get("test") else 1)' "$RUN/config.json"; then
    score test --split test
  fi
fi
echo "results: $RUN/results.jsonl"
