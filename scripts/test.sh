#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest.
#   scripts/test.sh [ctest options...]      e.g. scripts/test.sh -L ops   or   -R Softmax
# The browser test of the attention pages needs Debian's chromium, which is installed too unless
# HEED_NO_BROWSER=1 (then that one test is skipped with a message).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HEED_NO_BROWSER:-}" ] && [ ! -x /usr/bin/chromium ]; then
  echo "test: installing chromium for the browser test (HEED_NO_BROWSER=1 skips it)"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
fi
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure -j "${HEED_JOBS:-$(nproc)}" "$@"
