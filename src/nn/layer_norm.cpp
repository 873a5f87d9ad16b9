#include "heed/nn/layer_norm.h"

#include "heed/nn/init.h"
#include "heed/ops/layer_norm.h"
#include "heed/util/check.h"

namespace heed {

LayerNorm::LayerNorm(const LayerNormOptions& options) : options_(options) {
  CHECK(options.dim > 0, "LayerNorm: dim must be > 0 (got ", options.dim, ")");
  if (options.affine) {
    weight_ = register_parameter("weight", init::ones(Shape{options.dim}));
    bias_ = register_parameter("bias", init::zeros(Shape{options.dim}));
  }
}

Tensor LayerNorm::forward(const Tensor& x) const {
  return layer_norm(x, weight_, bias_, options_.eps);
}

}  // namespace heed
