// Matmul precision (process-wide): fp32, or bf16 operands with fp32 accumulation on CPUs with
// avx512_bf16 (oneDNN's avx512_core_bf16 kernels, ~2x fp32 throughput). Softmax, layer norm,
// losses and optimizer state stay fp32 either way; parameters stay fp32 "master" copies.
#pragma once

namespace heed {

enum class MatmulPrecision { kF32, kBf16 };

void set_matmul_precision(MatmulPrecision precision);
MatmulPrecision matmul_precision();
// True when this CPU runs bf16 matmuls natively (else bf16 would be emulated and slow).
bool cpu_has_bf16();

}  // namespace heed
