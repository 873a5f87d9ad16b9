#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest.
#   scripts/test.sh [ctest options...]      e.g. scripts/test.sh -L ops   or   -R Softmax
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure -j "${HEED_JOBS:-$(nproc)}" "$@"
