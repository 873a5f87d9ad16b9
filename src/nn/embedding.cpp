#include "heed/nn/embedding.h"

#include <cmath>
#include <cstring>

#include "heed/nn/init.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/embedding.h"
#include "heed/util/check.h"

namespace heed {

Embedding::Embedding(const EmbeddingOptions& options, Rng& rng) : options_(options) {
  CHECK(options.num_embeddings > 0 && options.dim > 0,
        "Embedding: num_embeddings and dim must be > 0 (got ", options.num_embeddings, ", ",
        options.dim, ")");
  CHECK(options.padding_idx < options.num_embeddings, "Embedding: padding_idx ",
        options.padding_idx, " out of range [0, ", options.num_embeddings, ")");
  const float stddev = options.init_stddev > 0.f
                           ? options.init_stddev
                           : 1.f / std::sqrt(static_cast<float>(options.dim));
  Tensor w = init::normal(Shape{options.num_embeddings, options.dim}, rng, stddev);
  if (options.padding_idx >= 0)
    std::memset(w.data() + options.padding_idx * options.dim, 0, sizeof(float) * options.dim);
  weight_ = register_embedding_table("weight", w);
}

Tensor Embedding::forward(const IntTensor& ids) const {
  Tensor out = embedding(weight_, ids, options_.padding_idx);
  if (options_.scale_by_sqrt_dim) out = mul(out, std::sqrt(static_cast<float>(options_.dim)));
  return out;
}

}  // namespace heed
