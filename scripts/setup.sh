#!/usr/bin/env bash
# Installs the Debian packages heed needs (only those missing) and builds it in build/.
#   scripts/setup.sh [--no-build] [cmake options...]
# Environment: BUILD_DIR (default build), HEED_JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

# ocl-icd-opencl-dev: Debian builds oneDNN with its OpenCL GPU runtime, so dnnl-config.cmake
# calls find_package(OpenCL REQUIRED); the package is only a Recommends of libdnnl-dev, which
# --no-install-recommends leaves out, and without it cmake fails on a clean machine.
PACKAGES=(build-essential cmake pkg-config libdnnl-dev ocl-icd-opencl-dev libsentencepiece-dev
          sentencepiece nlohmann-json3-dev libcli11-dev libgtest-dev zlib1g-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${HEED_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@" > "$BUILD_DIR.cmake.log" 2>&1 \
  || { cat "$BUILD_DIR.cmake.log"; exit 1; }
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "setup: built $BUILD_DIR/heed"
