#include "heed/optim/grad_clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "optim/grad_norm.h"

namespace heed {
namespace optim_detail {

// Chunk size of the deterministic sum: big enough to amortize the fork, fixed so that the
// summation order does not depend on the thread count.
constexpr Index kSumChunk = 1 << 14;

// Σ x_i² over one chunk in double, in 8 interleaved partial sums (a fixed order the compiler can
// vectorize without reassociating), combined pairwise at the end.
static double chunk_sum_of_squares(const float* x, Index n) {
  constexpr int kLanes = 8;
  double lanes[kLanes] = {};
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double v = x[i + j];
      lanes[j] += v * v;
    }
  for (; i < n; ++i) {
    const double v = x[i];
    lanes[0] += v * v;
  }
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

double sum_of_squares(const float* x, Index n) {
  const Index chunks = (n + kSumChunk - 1) / kSumChunk;
  if (chunks <= 1) return chunk_sum_of_squares(x, n);
  std::vector<double> partial(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (Index c = 0; c < chunks; ++c) {
    const Index begin = c * kSumChunk;
    partial[c] = chunk_sum_of_squares(x + begin, std::min(kSumChunk, n - begin));
  }
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

void scale(float* x, Index n, float factor) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) x[i] *= factor;
}

float clip_coefficient(float norm, float max_norm) {
  const float coefficient = max_norm / (norm + 1e-6f);
  return coefficient < 1.f || std::isnan(coefficient) ? coefficient : 1.f;
}

}  // namespace optim_detail

float clip_grad_norm(const NamedParameters& parameters, float max_norm) {
  CHECK(std::isfinite(max_norm) && max_norm > 0.f,
        "clip_grad_norm: max_norm must be finite and > 0 (got ", max_norm, ")");
  std::vector<Tensor> grads;
  grads.reserve(parameters.size());
  double sum = 0;
  for (const auto& [_, param] : parameters) {
    Tensor grad = param.grad();  // zero-fills a stale gradient
    if (!grad.defined()) continue;
    sum += optim_detail::sum_of_squares(grad.data(), grad.numel());
    grads.push_back(grad);
  }
  const float norm = static_cast<float>(std::sqrt(sum));
  const float coefficient = optim_detail::clip_coefficient(norm, max_norm);
  if (coefficient != 1.f)  // below 1, or NaN (torch scales by a NaN coefficient too)
    for (Tensor& grad : grads) optim_detail::scale(grad.data(), grad.numel(), coefficient);
  return norm;
}

}  // namespace heed
