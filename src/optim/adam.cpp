// Adam / AdamW: the formulas and references are in include/heed/optim/adam.h.
//
// State buffers: 0 = exp_avg (m), 1 = exp_avg_sq (v), flat like the parameters.
#include "heed/optim/adam.h"

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

// One fused pass over n elements: read g, update m, v and p in place. Elementwise, so the
// result does not depend on the thread count.
void adam_update(float* p, const float* g, float* m, float* v, Index n, const AdamStep& s) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) {
    const float param = p[i] * s.decay;
    const float grad = g[i] + s.l2 * p[i];
    const float m_i = s.beta1 * m[i] + s.one_minus_beta1 * grad;
    const float v_i = s.beta2 * v[i] + s.one_minus_beta2 * grad * grad;
    const float denom = std::sqrt(v_i) / s.bias_correction2_sqrt + s.eps;
    m[i] = m_i;
    v[i] = v_i;
    p[i] = param - s.step_size * m_i / denom;
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
          .weight_decay = o.weight_decay};
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
  adam_update(flat_params(), flat_grads(), state_buffer(0), state_buffer(1), flat_size(), s);
}

}  // namespace heed
