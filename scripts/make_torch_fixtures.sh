#!/usr/bin/env bash
# Regenerates the PyTorch reference fixtures in tests/fixtures/torch/ by running every
# scripts/fixtures/*.py with the system Python (Debian's python3-torch, installed if missing).
# The scripts are deterministic: rerunning them rewrites identical files. Tests read the
# committed JSON and never need Python.
#   scripts/make_torch_fixtures.sh            # all fixtures
#   scripts/make_torch_fixtures.sh rnn        # only scripts/fixtures/rnn.py
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "make_torch_fixtures: installing python3-torch"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch
fi

if [ $# -gt 0 ]; then
  scripts=()
  for name in "$@"; do scripts+=("scripts/fixtures/${name%.py}.py"); done
else
  scripts=(scripts/fixtures/*.py)
fi
for script in "${scripts[@]}"; do
  echo "== $script"
  "$PYTHON" "$script"
done
