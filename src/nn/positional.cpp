#include "heed/nn/positional.h"

#include <cmath>

#include "heed/nn/init.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"

namespace heed {

PositionalEncoding::PositionalEncoding(const PositionalOptions& options, Rng& rng)
    : options_(options) {
  CHECK(options.dim > 0 && options.max_len > 0, "PositionalEncoding: dim and max_len must be "
        "> 0 (got ", options.dim, ", ", options.max_len, ")");
  const Index L = options.max_len, D = options.dim;
  if (options.kind == PositionalKind::kLearned) {
    weight_ = register_parameter(
        "weight", init::normal(Shape{L, D}, rng, 1.f / std::sqrt(static_cast<float>(D))));
    return;
  }
  weight_ = Tensor::empty(Shape{L, D});
  float* pe = weight_.data();
  for (Index pos = 0; pos < L; ++pos) {
    for (Index i = 0; i < D; i += 2) {
      // Same float32 arithmetic as the usual PyTorch code: exp(2i · (-ln(10000) / D)).
      const float div = std::exp(static_cast<float>(i) * (-std::log(10000.0f) / D));
      const float angle = static_cast<float>(pos) * div;
      pe[pos * D + i] = std::sin(angle);
      if (i + 1 < D) pe[pos * D + i + 1] = std::cos(angle);
    }
  }
}

Tensor PositionalEncoding::table(Index offset, Index length) const {
  CHECK(offset >= 0 && offset + length <= options_.max_len, "PositionalEncoding: positions [",
        offset, ", ", offset + length, ") exceed max_len ", options_.max_len);
  return slice(weight_, 0, offset, offset + length);
}

Tensor PositionalEncoding::forward(const Tensor& x, Index offset) const {
  CHECK(x.ndim() >= 2 && x.shape()[-1] == options_.dim, "PositionalEncoding: input must be "
        "[..., T, ", options_.dim, "] (got ", x.shape(), ")");
  return add(x, table(offset, x.shape()[-2]));
}

}  // namespace heed
