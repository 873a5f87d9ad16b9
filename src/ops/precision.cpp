#include "heed/ops/precision.h"

#include <dnnl.hpp>

#include "ops/kernels/dnnl_matmul.h"

namespace heed {

void set_matmul_precision(MatmulPrecision precision) {
  kernels::set_matmul_precision(precision == MatmulPrecision::kBf16
                                    ? kernels::MatmulPrecision::kBf16
                                    : kernels::MatmulPrecision::kF32);
}

MatmulPrecision matmul_precision() {
  return kernels::matmul_precision() == kernels::MatmulPrecision::kBf16 ? MatmulPrecision::kBf16
                                                                        : MatmulPrecision::kF32;
}

bool cpu_has_bf16() {
  return __builtin_cpu_supports("avx512bf16") != 0;
}

}  // namespace heed
