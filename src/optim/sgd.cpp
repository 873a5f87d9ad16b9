// SGD with momentum: the formulas and references are in include/heed/optim/sgd.h.
//
// State buffer 0 = momentum_buffer (only when momentum ≠ 0).
#include "heed/optim/sgd.h"

#include <cmath>

#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed {
namespace {

void sgd_update(float* p, const float* g, Index n, float lr, float weight_decay) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) p[i] -= lr * (g[i] + weight_decay * p[i]);
}

// b ← keep·b + take·d, then p ← p − lr·(nesterov ? d + μ·b : b).
void sgd_momentum_update(float* p, const float* g, float* buffer, Index n, float lr,
                         float weight_decay, float keep, float take, float momentum,
                         bool nesterov) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) {
    const float d = g[i] + weight_decay * p[i];
    const float b = keep * buffer[i] + take * d;
    buffer[i] = b;
    p[i] -= lr * (nesterov ? d + momentum * b : b);
  }
}

// Validates before the base constructor rebinds any parameter; returns `o`.
const SgdOptions& checked(const SgdOptions& o) {
  CHECK(o.momentum >= 0, "sgd: momentum must be >= 0 (got ", o.momentum, ")");
  CHECK(o.weight_decay >= 0, "sgd: weight_decay must be >= 0 (got ", o.weight_decay, ")");
  CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
        "sgd: nesterov needs momentum > 0 and dampening == 0 (got momentum ", o.momentum,
        ", dampening ", o.dampening, ")");
  return o;
}

}  // namespace

Sgd::Sgd(const NamedParameters& parameters, const SgdOptions& options)
    : Optimizer("sgd", parameters, checked(options).lr), options_(options) {
  if (options_.momentum != 0) add_state_buffer("momentum_buffer");
}

void Sgd::update(std::int64_t step) {
  const SgdOptions& o = options_;
  const float weight_decay = static_cast<float>(o.weight_decay);
  if (o.momentum == 0) {
    sgd_update(flat_params(), flat_grads(), flat_size(), lr(), weight_decay);
    return;
  }
  // torch creates the buffer on the first step as a copy of d (no dampening).
  const bool first = step == 1;
  const float momentum = static_cast<float>(o.momentum);
  const float keep = first ? 0.f : momentum;
  const float take = first ? 1.f : static_cast<float>(1.0 - o.dampening);
  sgd_momentum_update(flat_params(), flat_grads(), state_buffer(0), flat_size(), lr(),
                      weight_decay, keep, take, momentum, o.nesterov);
}

}  // namespace heed
