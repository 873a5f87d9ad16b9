// Multi-head attention and its KV cache; the math and the parameter layout are in
// include/heed/nn/multi_head_attention.h.
//
// Shapes: query [B, T, D], key/value [B, S, D], H heads of d_h = D / H. Heads are split by one
// permute per projection GEMM: [B, T, n·D] -> [B, T, n, H, d_h] -> [n, B, H, T, d_h], whose n
// pieces along dim 0 are views (n = 3 for fused self-attention, 2 for fused keys+values).
#include "heed/nn/multi_head_attention.h"

#include <algorithm>
#include <cstring>

#include "heed/autograd/grad_mode.h"
#include "heed/nn/init.h"
#include "heed/ops/matmul.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed {
namespace {

constexpr Index kInitialCacheCapacity = 16;

std::string shape_of(const Tensor& t) { return t.defined() ? t.shape().to_string() : "undefined"; }

// [B, T, n·H·d_h] -> n tensors [B, H, T, d_h].
std::vector<Tensor> split_heads(const Tensor& x, int n, Index H) {
  const Index B = x.size(0), T = x.size(1), Dh = x.size(2) / (n * H);
  if (n == 1) return {permute(reshape(x, Shape{B, T, H, Dh}), {0, 2, 1, 3})};
  const Tensor heads = permute(reshape(x, Shape{B, T, n, H, Dh}), {2, 0, 3, 1, 4});
  std::vector<Tensor> out;
  for (const Tensor& piece : split(heads, std::vector<Index>(n, 1), 0))
    out.push_back(reshape(piece, Shape{B, H, T, Dh}));
  return out;
}

// [B, H, T, d_h] -> [B, T, H·d_h]
Tensor merge_heads(const Tensor& x) {
  const Index B = x.size(0), H = x.size(1), T = x.size(2), Dh = x.size(3);
  return reshape(permute(x, {0, 2, 1, 3}), Shape{B, T, H * Dh});
}

// Rows [begin, end) of a weight [3D, D] or bias [3D] (a view), or undefined.
Tensor rows_of(const Tensor& t, Index begin, Index end) {
  return t.defined() ? slice(t, 0, begin, end) : Tensor();
}

// Copies T positions of every (batch, head) block: dst[bh, offset + t, :] = src[bh, t, :] for
// t < T, from blocks of src_capacity positions into blocks of dst_capacity (d_h floats each).
void copy_positions(const float* src, Index src_capacity, float* dst, Index dst_capacity,
                    Index offset, Index BH, Index T, Index Dh) {
#pragma omp parallel for schedule(static) if (BH * T * Dh > kParallelGrain)
  for (Index bh = 0; bh < BH; ++bh)
    std::memcpy(dst + (bh * dst_capacity + offset) * Dh, src + bh * src_capacity * Dh,
                sizeof(float) * T * Dh);
}

const MultiHeadAttentionOptions& checked(const MultiHeadAttentionOptions& o,
                                         const std::shared_ptr<Rng>& dropout_rng) {
  CHECK(o.embed_dim > 0 && o.num_heads > 0 && o.embed_dim % o.num_heads == 0,
        "MultiHeadAttention: embed_dim must be a positive multiple of num_heads (got embed_dim=",
        o.embed_dim, ", num_heads=", o.num_heads, ")");
  CHECK(o.dropout >= 0.f && o.dropout < 1.f, "MultiHeadAttention: dropout must be in [0, 1) (got ",
        o.dropout, ")");
  CHECK(o.dropout == 0.f || dropout_rng != nullptr,
        "MultiHeadAttention: dropout > 0 needs a random generator");
  return o;
}

}  // namespace

// ----------------------------------------------------------------------------------- KVCache

void KVCache::reserve(Index capacity) {
  const Index B = keys_.size(0), H = keys_.size(1), Dh = keys_.size(3);
  for (Tensor* buffer : {&keys_, &values_}) {
    Tensor grown = Tensor::zeros(Shape{B, H, capacity, Dh});
    copy_positions(buffer->data(), buffer->size(2), grown.data(), capacity, 0, B * H, length_, Dh);
    *buffer = grown;
  }
  unused_ = Tensor::ones(Shape{B, capacity});
  mark_used(0, length_);
}

void KVCache::mark_used(Index begin, Index end) {
  const Index B = unused_.size(0), capacity = unused_.size(1);
  for (Index b = 0; b < B; ++b)
    std::fill(unused_.data() + b * capacity + begin, unused_.data() + b * capacity + end, 0.f);
}

void KVCache::append(const Tensor& k, const Tensor& v) {
  CHECK(kind_ == Kind::kSelf, "KVCache::append: a cross-attention cache is assigned, not grown");
  CHECK(k.ndim() == 4 && v.shape() == k.shape(),
        "KVCache::append: k and v must be the same [B, H, T, d_h] (got k ", shape_of(k), ", v ",
        shape_of(v), ")");
  if (!keys_.defined()) {
    const Index B = k.size(0), H = k.size(1), Dh = k.size(3);
    const Index capacity = std::max(kInitialCacheCapacity, k.size(2));
    keys_ = Tensor::zeros(Shape{B, H, capacity, Dh});
    values_ = Tensor::zeros(Shape{B, H, capacity, Dh});
    unused_ = Tensor::ones(Shape{B, capacity});
  }
  CHECK(k.size(0) == keys_.size(0) && k.size(1) == keys_.size(1) && k.size(3) == keys_.size(3),
        "KVCache::append: k ", k.shape(),
        " does not match the cache [B, H, capacity, d_h] = ", keys_.shape());
  const Index T = k.size(2);
  if (length_ + T > capacity()) reserve(std::max(2 * capacity(), length_ + T));
  const Index BH = k.size(0) * k.size(1), Dh = k.size(3);
  copy_positions(k.data(), T, keys_.data(), capacity(), length_, BH, T, Dh);
  copy_positions(v.data(), T, values_.data(), capacity(), length_, BH, T, Dh);
  mark_used(length_, length_ + T);
  length_ += T;
}

void KVCache::assign(const Tensor& k, const Tensor& v) {
  CHECK(kind_ == Kind::kCross, "KVCache::assign: a self-attention cache is appended to");
  CHECK(k.ndim() == 4 && v.shape() == k.shape(),
        "KVCache::assign: k and v must be the same [B, H, S, d_h] (got k ", shape_of(k), ", v ",
        shape_of(v), ")");
  keys_ = k.detach();
  values_ = v.detach();
  unused_ = Tensor();
  length_ = k.size(2);
}

void KVCache::select(const IntTensor& rows) {
  if (!keys_.defined()) return;
  NoGradGuard no_grad;
  keys_ = index_select(keys_, 0, rows);
  values_ = index_select(values_, 0, rows);
  if (unused_.defined()) unused_ = index_select(unused_, 0, rows);
}

void KVCache::clear() {
  keys_ = values_ = unused_ = Tensor();
  length_ = 0;
}

// -------------------------------------------------------------------------- MultiHeadAttention

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& options, Rng& rng,
                                       std::shared_ptr<Rng> dropout_rng)
    : out_proj_(
          LinearOptions{checked(options, dropout_rng).embed_dim, options.embed_dim, options.bias},
          rng),
      options_(options),
      dropout_rng_(std::move(dropout_rng)) {
  const Index D = options.embed_dim;
  if (options.fused_qkv) {
    in_proj_weight_ =
        register_parameter("in_proj_weight", init::xavier_uniform(Shape{3 * D, D}, rng));
    if (options.bias) in_proj_bias_ = register_parameter("in_proj_bias", init::zeros(Shape{3 * D}));
  } else {
    const LinearOptions projection{D, D, options.bias};
    q_proj_ = std::make_unique<Linear>(projection, rng);
    k_proj_ = std::make_unique<Linear>(projection, rng);
    v_proj_ = std::make_unique<Linear>(projection, rng);
    register_module("q_proj", *q_proj_);
    register_module("k_proj", *k_proj_);
    register_module("v_proj", *v_proj_);
  }
  register_module("out_proj", out_proj_);
}

MultiHeadAttention::Projected MultiHeadAttention::project_self(const Tensor& x) const {
  const Index H = options_.num_heads;
  if (!options_.fused_qkv)
    return {split_heads(q_proj_->forward(x), 1, H)[0], split_heads(k_proj_->forward(x), 1, H)[0],
            split_heads(v_proj_->forward(x), 1, H)[0]};
  // One GEMM for all three projections.
  auto qkv = split_heads(linear(x, in_proj_weight_, in_proj_bias_), 3, H);
  return {qkv[0], qkv[1], qkv[2]};
}

Tensor MultiHeadAttention::project_query(const Tensor& query) const {
  const Index D = options_.embed_dim;
  const Tensor q = options_.fused_qkv
                       ? linear(query, rows_of(in_proj_weight_, 0, D), rows_of(in_proj_bias_, 0, D))
                       : q_proj_->forward(query);
  return split_heads(q, 1, options_.num_heads)[0];
}

std::pair<Tensor, Tensor> MultiHeadAttention::project_key_value(const Tensor& key,
                                                                const Tensor& value) const {
  const Index D = options_.embed_dim, H = options_.num_heads;
  if (!options_.fused_qkv)
    return {split_heads(k_proj_->forward(key), 1, H)[0],
            split_heads(v_proj_->forward(value), 1, H)[0]};
  if (key.is_same(value)) {  // the usual cross-attention: one GEMM for keys and values
    auto kv = split_heads(
        linear(key, rows_of(in_proj_weight_, D, 3 * D), rows_of(in_proj_bias_, D, 3 * D)), 2, H);
    return {kv[0], kv[1]};
  }
  return {
      split_heads(linear(key, rows_of(in_proj_weight_, D, 2 * D), rows_of(in_proj_bias_, D, 2 * D)),
                  1, H)[0],
      split_heads(linear(value, rows_of(in_proj_weight_, 2 * D, 3 * D),
                         rows_of(in_proj_bias_, 2 * D, 3 * D)),
                  1, H)[0]};
}

void MultiHeadAttention::project_memory(const Tensor& memory, KVCache& cache) const {
  CHECK(cache.kind() == KVCache::Kind::kCross,
        "MultiHeadAttention: project_memory needs a cross-attention cache");
  CHECK(memory.ndim() == 3 && memory.size(2) == options_.embed_dim,
        "MultiHeadAttention: memory must be [B, S, D=", options_.embed_dim, "] (got ",
        shape_of(memory), ")");
  NoGradGuard no_grad;
  auto [k, v] = project_key_value(memory, memory);
  cache.assign(k, v);
}

MultiHeadAttentionOutput MultiHeadAttention::forward(const Tensor& query, const Tensor& key,
                                                     const Tensor& value,
                                                     const AttentionMasks& masks,
                                                     KVCache* cache) const {
  const Index D = options_.embed_dim;
  CHECK(query.defined() && query.ndim() == 3 && query.size(2) == D,
        "MultiHeadAttention: query must be [B, T, D=", D, "] (got ", shape_of(query), ")");
  const Index B = query.size(0);
  const bool cross_cache = cache != nullptr && cache->kind() == KVCache::Kind::kCross;
  const bool reuse_memory = cross_cache && !cache->empty();
  if (!reuse_memory)
    CHECK(key.defined() && value.defined() && key.ndim() == 3 && key.size(0) == B &&
              key.size(2) == D && value.shape() == key.shape(),
          "MultiHeadAttention: key and value must be [B=", B, ", S, D=", D, "] (got key ",
          shape_of(key), ", value ", shape_of(value), ")");
  CHECK(cache == nullptr || !GradMode::is_enabled(),
        "MultiHeadAttention: a KV cache is for inference only (run under NoGradGuard)");

  Tensor q, k, v;
  if (!cross_cache && key.is_same(query) && value.is_same(query)) {
    Projected p = project_self(query);
    q = p.q, k = p.k, v = p.v;
  } else {
    q = project_query(query);
    if (!reuse_memory) std::tie(k, v) = project_key_value(key, value);
  }

  const AttentionOptions attention{0.f, options_.dropout, is_training(), dropout_rng_.get()};
  AttentionOutput a;
  if (cache == nullptr) {
    a = scaled_dot_product_attention(q, k, v, masks, attention);
  } else if (cross_cache) {
    if (!reuse_memory) cache->assign(k, v);
    CHECK(cache->rows() == B, "MultiHeadAttention: the cross-attention cache has ", cache->rows(),
          " rows but the query has ", B);
    a = scaled_dot_product_attention(q, cache->keys(), cache->values(), masks, attention);
  } else {
    CHECK(!masks.key_padding.defined(),
          "MultiHeadAttention: a self-attention cache takes no key_padding mask");
    cache->append(k, v);
    const Index T = q.size(2), S = cache->length();
    if (T == 1) {
      // The one query is the newest position: it may see every cached key (causal or not), so
      // the whole buffer is used with only its unused tail hidden. No history is copied.
      AttentionMasks tail;
      if (cache->capacity() > S) tail.key_padding = cache->unused();
      a = scaled_dot_product_attention(q, cache->keys(), cache->values(), tail, attention);
      if (cache->capacity() > S) a.weights = slice(a.weights, 3, 0, S);
    } else {
      // Several new positions: the causal offset S - T must count real keys only.
      a = scaled_dot_product_attention(q, slice(cache->keys(), 2, 0, S),
                                       slice(cache->values(), 2, 0, S), masks, attention);
    }
  }
  return {out_proj_.forward(merge_heads(a.output)), a.weights};
}

}  // namespace heed
