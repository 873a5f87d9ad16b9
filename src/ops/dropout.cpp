// Dropout (Srivastava et al. 2014, JMLR 15), inverted:
//
//   y = x · m / (1 - p),   m_i ~ Bernoulli(1 - p)        dx = dy · m / (1 - p)
//
// The mask m is never stored. It is a pure function of (seed, first counter, p) — the mapping
// is defined once in kernels/dropout_mask.h, shared with the fused attention kernel — so the
// node saves those three numbers and backward regenerates m (recomputing Philox is cheaper than
// writing and re-reading a float mask). Both passes run over chunks of whole Philox blocks in
// parallel; since each element's mask bit depends only on its index, the result is the same for
// any thread count.
#include "heed/ops/dropout.h"

#include <algorithm>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/dropout_mask.h"

namespace heed {
namespace {

// out (+)= in · m / (1 - p) over n elements; forward (in = x) and backward (in = dy) alike.
template <bool kAccumulate>
void dropout_kernel(const kernels::DropoutMask& mask, const float* in, float* out, Index n) {
  constexpr Index kChunk = 4096;  // elements per task: a multiple of 4 (whole Philox blocks)
  const Index chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (Index c = 0; c < chunks; ++c) {
    const Index begin = c * kChunk, len = std::min(kChunk, n - begin);
    kernels::apply_dropout<kAccumulate>(mask, begin, len, in + begin, out + begin);
  }
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Rng& rng) {
  CHECK(p >= 0.f && p < 1.f, "dropout: p must be in [0, 1) (got p=", p, ")");
  CHECK(x.defined(), "dropout: undefined input");
  if (!training || p == 0.f) return x;
  const Index n = x.numel();
  const kernels::DropoutMask mask{rng.seed(), rng.reserve(kernels::DropoutMask::counters(n)), p};
  Tensor out = Tensor::empty(x.shape());
  dropout_kernel<false>(mask, x.data(), out.data(), n);
  record("dropout", out, {&x}, [mask](Node& node) {
    auto slot = node.grad_slot(0);
    const Index m = node.grad().numel();
    if (slot.accumulate)
      dropout_kernel<true>(mask, node.grad().data(), slot.tensor.data(), m);
    else
      dropout_kernel<false>(mask, node.grad().data(), slot.tensor.data(), m);
  });
  return out;
}

}  // namespace heed
