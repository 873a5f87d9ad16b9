// Adam / AdamW: the formulas and references are in include/heed/optim/adam.h.
//
// State buffers: 0 = exp_avg (m), 1 = exp_avg_sq (v), flat like the parameters.
#include "heed/optim/adam.h"

#include <algorithm>
#include <cmath>

#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed {
namespace {

// Per-step scalars of the update, as float (torch applies its Python-double scalars to float32
// tensors).
struct AdamStep {
  float decay;          // AdamW: 1 − lr·λ; Adam: 1
  float l2;             // Adam: λ; AdamW: 0
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float step_size;      // lr / (1 − β1^t)
  float bias_correction2_sqrt;  // √(1 − β2^t)
  float eps;
};

// Element i: read g, update m, v and p in place.
inline void adam_element(float* p, const float* g, float* m, float* v, Index i,
                         const AdamStep& s) {
  const float param = p[i] * s.decay;
  const float grad = g[i] + s.l2 * p[i];
  const float m_i = s.beta1 * m[i] + s.one_minus_beta1 * grad;
  const float v_i = s.beta2 * v[i] + s.one_minus_beta2 * grad * grad;
  const float denom = std::sqrt(v_i) / s.bias_correction2_sqrt + s.eps;
  m[i] = m_i;
  v[i] = v_i;
  p[i] = param - s.step_size * m_i / denom;
}

// One fused pass over n elements. Elementwise, so the result does not depend on the thread
// count.
void adam_update(float* p, const float* g, float* m, float* v, Index n, const AdamStep& s) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) adam_element(p, g, m, v, i, s);
}

// The same update for rows of `row_size` elements, skipping the rows whose gradient is all zero.
// Each row is one thread's, so the result does not depend on the thread count either.
void adam_update_rows(float* p, const float* g, float* m, float* v, Index n, Index row_size,
                      const AdamStep& s) {
  const Index rows = n / row_size;
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (Index r = 0; r < rows; ++r) {
    const Index at = r * row_size;
    const float* g_row = g + at;
    if (std::all_of(g_row, g_row + row_size, [](float x) { return x == 0.f; })) continue;
#pragma omp simd
    for (Index i = at; i < at + row_size; ++i) adam_element(p, g, m, v, i, s);
  }
}

// Validates before the base constructor rebinds any parameter; returns `o`.
const AdamOptions& checked(const char* name, const AdamOptions& o) {
  CHECK(std::isfinite(o.lr) && o.lr >= 0.f, name, ": lr must be finite and >= 0 (got ", o.lr,
        ")");
  CHECK(o.beta1 >= 0 && o.beta1 < 1, name, ": beta1 must be in [0, 1) (got ", o.beta1, ")");
  CHECK(o.beta2 >= 0 && o.beta2 < 1, name, ": beta2 must be in [0, 1) (got ", o.beta2, ")");
  // eps > 0 (torch allows 0): with 0, an element with no gradient history computes 0/0.
  CHECK(o.eps > 0, name, ": eps must be > 0 (got ", o.eps, ")");
  CHECK(o.weight_decay >= 0, name, ": weight_decay must be >= 0 (got ", o.weight_decay, ")");
  return o;
}

AdamOptions to_adam_options(const AdamWOptions& o) {
  return {.lr = o.lr, .beta1 = o.beta1, .beta2 = o.beta2, .eps = o.eps,
          .weight_decay = o.weight_decay, .lazy_rows = o.lazy_rows};
}

}  // namespace

Adam::Adam(const NamedParameters& parameters, const AdamOptions& options)
    : Adam("adam", parameters, options, /*decoupled=*/false) {}

Adam::Adam(const char* name, const NamedParameters& parameters, const AdamOptions& options,
           bool decoupled)
    : Optimizer(name, parameters, checked(name, options).lr),
      options_(options),
      decoupled_(decoupled) {
  add_state_buffer("exp_avg");
  add_state_buffer("exp_avg_sq");
  set_lazy_rows(options.lazy_rows);
}

AdamW::AdamW(const NamedParameters& parameters, const AdamWOptions& options)
    : Adam("adamw", parameters, to_adam_options(options), /*decoupled=*/true) {}

void Adam::update(std::int64_t step) {
  const AdamOptions& o = options_;
  const double lr = this->lr();
  const double t = static_cast<double>(step);
  AdamStep s;
  s.decay = decoupled_ ? static_cast<float>(1.0 - lr * o.weight_decay) : 1.f;
  s.l2 = decoupled_ ? 0.f : static_cast<float>(o.weight_decay);
  s.beta1 = static_cast<float>(o.beta1);
  s.one_minus_beta1 = static_cast<float>(1.0 - o.beta1);
  s.beta2 = static_cast<float>(o.beta2);
  s.one_minus_beta2 = static_cast<float>(1.0 - o.beta2);
  s.step_size = static_cast<float>(lr / (1.0 - std::pow(o.beta1, t)));
  s.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(o.beta2, t)));
  s.eps = static_cast<float>(o.eps);
  float* p = flat_params();
  const float* g = flat_grads();
  float* m = state_buffer(0);
  float* v = state_buffer(1);
  for (const FlatRange& r : ranges()) {
    const Index b = r.begin, n = r.end - r.begin;
    if (r.row_size == 0) {
      adam_update(p + b, g + b, m + b, v + b, n, s);
    } else {
      adam_update_rows(p + b, g + b, m + b, v + b, n, r.row_size, s);
    }
  }
}

}  // namespace heed
