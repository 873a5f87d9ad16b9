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
# OpenBLAS 0.3.21 (what Debian's PyTorch uses for fp32 matmuls) does not know every AVX-512 CPU:
# on an Emerald Rapids guest (family 6 model 207) it falls back to its "Prescott" SSE3 kernels and
# PyTorch runs ~5x slower. The peer is measured at its best, so name the kernels it should use.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512_bf16 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Cooperlake
  elif grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  fi
fi
mkdir -p bench/out
exec python3 scripts/bench.py --out "bench/out/$(date -u +%Y%m%dT%H%M%SZ).jsonl" "$@"
