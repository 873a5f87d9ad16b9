#include "heed/nn/init.h"

#include <cmath>

#include "heed/util/check.h"

namespace heed::init {

Tensor xavier_uniform(const Shape& shape, Rng& rng, float gain) {
  CHECK(shape.ndim() >= 2, "xavier_uniform: needs [out, in, ...] (got ", shape, ")");
  const Index receptive = shape.numel() / (shape[0] * shape[1]);
  const double fan_out = static_cast<double>(shape[0]) * receptive;
  const double fan_in = static_cast<double>(shape[1]) * receptive;
  const float bound = gain * static_cast<float>(std::sqrt(6.0 / (fan_in + fan_out)));
  return Tensor::uniform(shape, rng, -bound, bound);
}

Tensor uniform(const Shape& shape, Rng& rng, float bound) {
  return Tensor::uniform(shape, rng, -bound, bound);
}

Tensor normal(const Shape& shape, Rng& rng, float stddev) {
  return Tensor::normal(shape, rng, 0.f, stddev);
}

Tensor zeros(const Shape& shape) { return Tensor::zeros(shape); }
Tensor ones(const Shape& shape) { return Tensor::ones(shape); }

}  // namespace heed::init
