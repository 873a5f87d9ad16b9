#!/usr/bin/env bash
# heed's HTML pages in headless Chromium: no JavaScript error, and each page draws what its data
# holds (a page opened as page.html#selftest draws every view and reports its counts in the
# data-* attributes of <div id="heed-status">).
#
#   scripts/browser_test.sh               installs Debian's chromium if missing, builds, writes the
#                                         synthetic pages (tests/browser) and checks them; pages and
#                                         screenshots stay in build/browser_test/
#   scripts/browser_test.sh --check DIR   checks the pages of DIR against DIR/expected.tsv
#                                         ("file<TAB>key<TAB>value" lines); screenshots into
#                                         DIR/screenshots/ (what the ctest test runs)
#
# Environment: CHROMIUM (default /usr/bin/chromium), BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# The network is closed here and no profile may be reused: no sandbox (root), no GPU, no QUIC, no
# background traffic, a fresh --user-data-dir per run.
CHROMIUM_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
                --disable-background-networking --disable-component-update --disable-sync
                --disable-extensions --hide-scrollbars)

run_chromium() {
  local profile status
  profile=$(mktemp -d)
  set +e
  timeout 180 "$CHROMIUM" "${CHROMIUM_FLAGS[@]}" --user-data-dir="$profile" "$@"
  status=$?
  set -e
  rm -rf "$profile"
  return $status
}

# The value of data-KEY in the status element.
status_value() { sed -n "s/.* data-$2=\"\([^\"]*\)\".*/\1/p" <<<"$1"; }

check_dir() {
  local dir=$1 failures=0 before file page dom status log
  [ -f "$dir/expected.tsv" ] || { echo "browser_test: no $dir/expected.tsv"; return 1; }
  mkdir -p "$dir/screenshots"
  for file in $(cut -f1 "$dir/expected.tsv" | uniq); do
    page=$(realpath "$dir/$file")
    log="$dir/${file%.html}.log"
    before=$failures
    if ! dom=$(run_chromium --enable-logging=stderr --v=0 --dump-dom "file://$page#selftest" 2>"$log"); then
      echo "browser_test: $file: chromium failed (log: $log)"
      failures=$((failures + 1))
      continue
    fi
    status=$(grep -o '<div id="heed-status"[^>]*>' <<<"$dom" | head -1 || true)
    if grep -E -q 'Uncaught|CONSOLE.*(Error|error)' "$log"; then
      echo "browser_test: $file: JavaScript error:"
      grep -E 'Uncaught|CONSOLE' "$log" | head -5
      failures=$((failures + 1))
    fi
    if [ "$(status_value "$status" state)" != "ok" ]; then
      echo "browser_test: $file: status '${status:-none}' (expected data-state=\"ok\")"
      failures=$((failures + 1))
      continue
    fi
    local checked=0 key value got
    while IFS=$'\t' read -r name key value; do
      [ "$name" = "$file" ] || continue
      got=$(status_value "$status" "$key")
      if [ "$got" != "$value" ]; then
        echo "browser_test: $file: $key = '$got', expected $value"
        failures=$((failures + 1))
      fi
      checked=$((checked + 1))
    done <"$dir/expected.tsv"
    local shot="$dir/screenshots/${file%.html}.png"
    rm -f "$shot"
    run_chromium --window-size=1400,1000 --screenshot="$shot" "file://$page" >/dev/null 2>&1 || true
    if [ ! -s "$shot" ]; then
      echo "browser_test: $file: no screenshot"
      failures=$((failures + 1))
    fi
    [ "$failures" -eq "$before" ] && echo "browser_test: $file: ok ($checked counts checked; screenshot $shot)"
  done
  if [ "$failures" -gt 0 ]; then
    echo "browser_test: $failures failure(s)"
    return 1
  fi
}

if [ "${1:-}" = "--check" ]; then
  [ $# -eq 2 ] || { echo "usage: scripts/browser_test.sh --check DIR"; exit 2; }
  [ -x "$CHROMIUM" ] || { echo "browser_test: $CHROMIUM not found (run scripts/browser_test.sh to install it)"; exit 1; }
  check_dir "$2"
  exit $?
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "browser_test: installing chromium"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
fi
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "${HEED_JOBS:-2}" --target heed_browser_test
HEED_BROWSER_OUT="$PWD/$BUILD_DIR/browser_test" "$BUILD_DIR/tests/heed_browser_test"
