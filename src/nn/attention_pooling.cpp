#include "heed/nn/attention_pooling.h"

#include <cmath>

#include "heed/nn/init.h"
#include "heed/util/check.h"

namespace heed {
namespace {

const SelfAttentionPoolingOptions& checked(const SelfAttentionPoolingOptions& o) {
  CHECK(o.input_dim > 0 && o.attention_dim > 0,
        "SelfAttentionPooling: input_dim and attention_dim must be > 0 (got ", o.input_dim, ", ",
        o.attention_dim, ")");
  return o;
}

}  // namespace

SelfAttentionPooling::SelfAttentionPooling(const SelfAttentionPoolingOptions& options, Rng& rng)
    : proj_(LinearOptions{checked(options).input_dim, options.attention_dim, true}, rng),
      options_(options) {
  register_module("proj", proj_);
  const float bound = 1.f / std::sqrt(static_cast<float>(options.attention_dim));
  context_ = register_parameter("context", init::uniform(Shape{options.attention_dim}, rng, bound));
}

AttentionPoolingOutput SelfAttentionPooling::forward(const Tensor& h,
                                                     const Tensor& key_padding_mask) const {
  CHECK(h.defined() && h.ndim() == 3 && h.size(2) == options_.input_dim,
        "SelfAttentionPooling: h must be [B, T, input_dim=", options_.input_dim, "] (got ",
        h.defined() ? h.shape().to_string() : "undefined", ")");
  return attention_pooling(proj_.forward(h), context_, h, key_padding_mask);
}

}  // namespace heed
