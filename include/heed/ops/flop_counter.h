// Matmul FLOP accounting, for benchmarks: every GEMM heed runs (oneDNN matmuls and the small
// products inside fused kernels such as attention) adds 2·M·K·N here. The benchmark counts one
// forward pass and multiplies by 3 for forward + backward, as the PyTorch peer script does.
#pragma once

#include <cstdint>

namespace heed {

void add_matmul_flops(double flops);
double matmul_flops();        // total since start (or the last reset)
void reset_matmul_flops();

}  // namespace heed
