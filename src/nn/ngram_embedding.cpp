#include "heed/nn/ngram_embedding.h"

#include <cmath>
#include <cstring>

#include "heed/nn/dropout.h"
#include "heed/nn/init.h"
#include "heed/ops/embedding.h"
#include "heed/ops/reduce.h"
#include "heed/ops/shape_ops.h"
#include "heed/tensor/special_ids.h"
#include "heed/util/check.h"

namespace heed {
namespace {

// SplitMix64's finalizer (Steele et al. 2014): a cheap, well-mixed hash of one 64-bit word.
// Checkpoints depend on it: changing it re-maps every trained n-gram.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

NgramEmbedding::NgramEmbedding(const NgramEmbeddingOptions& options, Rng& rng,
                               std::shared_ptr<Rng> dropout_rng)
    : options_(options), dropout_rng_(std::move(dropout_rng)) {
  CHECK(options.buckets >= 2 && options.dim > 0, "NgramEmbedding: buckets must be >= 2 and dim > 0 "
        "(got ", options.buckets, ", ", options.dim, ")");
  CHECK(options.max_order >= 2, "NgramEmbedding: max_order must be >= 2 (got ", options.max_order,
        ")");
  CHECK(options.table_dim >= 0 && options.table_dim <= options.dim,
        "NgramEmbedding: table_dim must be in [0, dim = ", options.dim, "] (got ",
        options.table_dim, ")");
  CHECK(options.dropout >= 0.f && options.dropout < 1.f,
        "NgramEmbedding: dropout must be in [0, 1) (got ", options.dropout, ")");
  CHECK(options.dropout == 0.f || dropout_rng_ != nullptr,
        "NgramEmbedding: dropout > 0 needs a random generator");
  const Index R = options.table_dim > 0 ? options.table_dim : options.dim;
  const float stddev =
      options.init_stddev > 0.f ? options.init_stddev : 1.f / std::sqrt(static_cast<float>(R));
  Tensor w = init::normal(Shape{options.buckets, R}, rng, stddev);
  std::memset(w.data(), 0, sizeof(float) * R);  // row 0: padding
  weight_ = register_embedding_table("weight", w);
  if (R < options.dim) {
    proj_ = std::make_unique<Linear>(LinearOptions{R, options.dim, false}, rng);
    register_module("proj", *proj_);
  }
}

IntTensor NgramEmbedding::bucket_ids(const IntTensor& ids) const {
  CHECK(ids.defined() && ids.ndim() >= 1 && ids.numel() > 0,
        "NgramEmbedding: ids must be a non-empty [..., T]");
  const Index T = ids.shape().back();
  const Index rows = ids.numel() / T;
  const Index K = options_.max_order - 1;
  IntTensor out(ids.shape().appended(K), kPadId);
  const auto shared = static_cast<std::uint64_t>(options_.buckets - 1);
  for (Index r = 0; r < rows; ++r) {
    const std::int32_t* seq = ids.data() + r * T;
    std::int32_t* dst = out.data() + r * T * K;
    for (Index t = 0; t < T; ++t) {
      if (seq[t] == kPadId) continue;
      // h folds in the tokens t, t-1, ... one at a time; after folding n tokens it is the hash
      // of the n-gram ending at t (the order is in it: "a b" and "b a" differ).
      std::uint64_t h = mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(seq[t])));
      for (Index n = 2; n <= options_.max_order; ++n) {
        const Index s = t - n + 1;
        const std::int32_t token = s >= 0 ? seq[s] : kBosId;
        h = mix(h ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(token)) +
                     0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(n)));
        dst[t * K + (n - 2)] = static_cast<std::int32_t>(1 + h % shared);
      }
    }
  }
  return out;
}

Tensor NgramEmbedding::forward(const IntTensor& ids) const {
  IntTensor buckets = bucket_ids(ids);  // [..., T, K]
  if (is_training() && options_.dropout > 0.f)
    buckets = drop_ids(buckets, options_.dropout, *dropout_rng_, kPadId);
  const Tensor rows = embedding(weight_, buckets, kPadId);  // [..., T, K, R]
  const Tensor summed = options_.max_order == 2 ? reshape(rows, ids.shape().appended(table_dim()))
                                                : sum(rows, -2);  // [..., T, R]
  return proj_ ? proj_->forward(summed) : summed;                  // [..., T, D]
}

}  // namespace heed
