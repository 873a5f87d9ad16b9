#include "heed/nn/dropout.h"

#include "heed/ops/dropout.h"
#include "heed/util/check.h"

namespace heed {

Dropout::Dropout(float p, std::shared_ptr<Rng> rng) : p_(p), rng_(std::move(rng)) {
  CHECK(p >= 0.f && p < 1.f, "Dropout: p must be in [0, 1) (got ", p, ")");
  CHECK(p == 0.f || rng_ != nullptr, "Dropout: p > 0 needs a random generator");
}

Tensor Dropout::forward(const Tensor& x) const {
  if (!is_training() || p_ == 0.f) return x;
  return dropout(x, p_, true, *rng_);
}

}  // namespace heed
