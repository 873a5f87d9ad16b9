#include "heed/nn/linear.h"

#include "heed/nn/init.h"
#include "heed/ops/matmul.h"
#include "heed/util/check.h"

namespace heed {

Linear::Linear(const LinearOptions& options, Rng& rng) : options_(options) {
  CHECK(options.in_features > 0 && options.out_features > 0,
        "Linear: in_features and out_features must be > 0 (got ", options.in_features, ", ",
        options.out_features, ")");
  weight_ = register_parameter(
      "weight", init::xavier_uniform(Shape{options.out_features, options.in_features}, rng));
  if (options.bias) bias_ = register_parameter("bias", init::zeros(Shape{options.out_features}));
}

Tensor Linear::forward(const Tensor& x) const { return linear(x, weight_, bias_); }

}  // namespace heed
