#!/usr/bin/env bash
# Training throughput of heed vs PyTorch (the peer in ../shared/bench), side by side.
#   scripts/bench.sh                       all reference models, 3 rounds, 2 threads
#   scripts/bench.sh --model small         one model
#   scripts/bench.sh --precision bf16      bf16 matmuls for heed, bf16 autocast for PyTorch
# Options are those of scripts/bench.py (--rounds, --threads, --steps, --out, --no-peer ...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh > /dev/null
need=()
for p in python3-torch libopenblas0-openmp libtcmalloc-minimal4; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing the PyTorch peer's packages: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
if [ ! -f ../shared/bench/peer_torch.py ]; then
  echo "bench: ../shared/bench/peer_torch.py not found: measuring heed only" >&2
  set -- --no-peer "$@"
fi
mkdir -p bench/out
exec python3 scripts/bench.py --out "bench/out/$(date -u +%Y%m%dT%H%M%SZ).jsonl" "$@"
