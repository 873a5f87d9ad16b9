#include "heed/nn/multi_head_attention.h"

#include <gtest/gtest.h>

#include <cmath>

#include "heed/autograd/grad_mode.h"
#include "heed/ops/shape_ops.h"
#include "optim/thread_count.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, _] : m.named_parameters()) names.push_back(name);
  return names;
}

MultiHeadAttentionOptions small(bool fused = true, bool bias = true) {
  MultiHeadAttentionOptions o;
  o.embed_dim = 4;
  o.num_heads = 2;
  o.fused_qkv = fused;
  o.bias = bias;
  return o;
}

// Parameters get random values (biases included), so every term shows in the output.
void randomize(Module& m, std::uint64_t seed) {
  Rng rng(seed);
  for (auto& [_, p] : m.named_parameters())
    Tensor(p).copy_from_(Tensor::uniform(p.shape(), rng, -0.7f, 0.7f));
}

// [B, S] key-padding mask from lengths.
Tensor padding(const std::vector<int>& lengths, Index S) {
  Tensor m = Tensor::zeros(Shape{Index(lengths.size()), S});
  for (size_t b = 0; b < lengths.size(); ++b)
    for (Index j = lengths[b]; j < S; ++j) m.data()[b * S + j] = 1.f;
  return m;
}

std::vector<Tensor> with_parameters(std::vector<Tensor> inputs, const Module& m) {
  for (auto& [_, p] : m.named_parameters()) inputs.push_back(p);
  return inputs;
}

// ----------------------------------------------------------------------------- parameters

TEST(MultiHeadAttention, ParameterNamesAndShapesMatchPyTorch) {
  Rng rng(1);
  MultiHeadAttention fused(small(), rng);
  EXPECT_EQ(names_of(fused), (std::vector<std::string>{"in_proj_weight", "in_proj_bias",
                                                       "out_proj.weight", "out_proj.bias"}));
  EXPECT_EQ(fused.in_proj_weight_.shape(), (Shape{12, 4}));
  EXPECT_EQ(fused.in_proj_bias_.shape(), (Shape{12}));
  EXPECT_EQ(fused.out_proj_.weight_.shape(), (Shape{4, 4}));
  // Xavier uniform over the whole [3D, D] matrix: bound √(6 / (4 + 12)) = 0.612.
  for (float v : fused.in_proj_weight_.to_vector()) EXPECT_LE(std::abs(v), 0.6124f);

  MultiHeadAttention separate(small(false), rng);
  EXPECT_EQ(names_of(separate),
            (std::vector<std::string>{"q_proj.weight", "q_proj.bias", "k_proj.weight",
                                      "k_proj.bias", "v_proj.weight", "v_proj.bias",
                                      "out_proj.weight", "out_proj.bias"}));
  MultiHeadAttention no_bias(small(true, false), rng);
  EXPECT_EQ(names_of(no_bias), (std::vector<std::string>{"in_proj_weight", "out_proj.weight"}));
}

// ----------------------------------------------------------------------------- forward

TEST(MultiHeadAttention, ForwardByHand) {
  // One head, D = 2, identity projections, zero biases: output = softmax(x·xᵀ/√2)·x.
  // x = [[1, 0], [0, 1]]: row 0 scores (1/√2, 0) -> weights (0.66976, 0.33024).
  Rng rng(2);
  MultiHeadAttentionOptions o;
  o.embed_dim = 2;
  o.num_heads = 1;
  MultiHeadAttention mha(o, rng);
  mha.in_proj_weight_.copy_from_(
      Tensor::from_vector(Shape{6, 2}, {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1}));
  mha.out_proj_.weight_.copy_from_(Tensor::from_vector(Shape{2, 2}, {1, 0, 0, 1}));
  const Tensor x = Tensor::from_vector(Shape{1, 2, 2}, {1, 0, 0, 1});
  const float w = 1.f / (1.f + std::exp(-1.f / std::sqrt(2.f)));  // 0.66976
  auto out = mha.forward(x, x, x);
  EXPECT_TRUE(all_close(out.weights, {w, 1 - w, 1 - w, w}));
  EXPECT_TRUE(all_close(out.output, {w, 1 - w, 1 - w, w}));
  // Key 1 hidden: both queries see only key 0.
  out = mha.forward(x, x, x, {padding({1}, 2), false});
  EXPECT_TRUE(all_close(out.weights, {1, 0, 1, 0}));
  EXPECT_TRUE(all_close(out.output, {1, 0, 1, 0}));
  // Causal: query 0 sees key 0 only; query 1 both.
  out = mha.forward(x, x, x, {Tensor(), true});
  EXPECT_TRUE(all_close(out.weights, {1, 0, 1 - w, w}));
}

TEST(MultiHeadAttention, FusedEqualsSeparateProjections) {
  // The same weights in both layouts give the same output (self- and cross-attention).
  Rng rng(3);
  MultiHeadAttention fused(small(), rng), separate(small(false), rng);
  randomize(fused, 4);
  const Index D = 4;
  for (int k = 0; k < 3; ++k) {
    Linear* proj[] = {separate.q_proj_.get(), separate.k_proj_.get(), separate.v_proj_.get()};
    proj[k]->weight_.copy_from_(slice(fused.in_proj_weight_, 0, k * D, (k + 1) * D));
    proj[k]->bias_.copy_from_(slice(fused.in_proj_bias_, 0, k * D, (k + 1) * D));
  }
  separate.out_proj_.weight_.copy_from_(fused.out_proj_.weight_);
  separate.out_proj_.bias_.copy_from_(fused.out_proj_.bias_);
  const Tensor x = random_input(Shape{2, 3, 4}, 5), m = random_input(Shape{2, 5, 4}, 6);
  const Tensor v = random_input(Shape{2, 5, 4}, 7);
  EXPECT_TRUE(all_close(fused.forward(x, x, x).output, separate.forward(x, x, x).output));
  EXPECT_TRUE(all_close(fused.forward(x, m, m).output, separate.forward(x, m, m).output));
  EXPECT_TRUE(all_close(fused.forward(x, m, v).output, separate.forward(x, m, v).output));
}

TEST(MultiHeadAttention, PaddedKeysGetExactlyZeroWeight) {
  Rng rng(8);
  MultiHeadAttention mha(small(), rng);
  randomize(mha, 9);
  const Tensor q = random_input(Shape{2, 3, 4}, 10), m = random_input(Shape{2, 5, 4}, 11);
  const auto out = mha.forward(q, m, m, {padding({5, 2}, 5), false});
  ASSERT_EQ(out.weights.shape(), (Shape{2, 2, 3, 5}));
  const float* w = out.weights.data();
  for (Index h = 0; h < 2; ++h)
    for (Index t = 0; t < 3; ++t) {
      const float* row = w + ((1 * 2 + h) * 3 + t) * 5;
      EXPECT_EQ(row[2], 0.f);
      EXPECT_EQ(row[3], 0.f);
      EXPECT_EQ(row[4], 0.f);
      EXPECT_NEAR(row[0] + row[1], 1.f, 1e-6);
      EXPECT_GT(row[0], 0.f);
    }
  // And the values at padded keys do not matter at all.
  Tensor m2 = m.copy_data();
  for (Index j = 2; j < 5; ++j)
    for (Index d = 0; d < 4; ++d) m2.data()[(5 + j) * 4 + d] = 100.f;
  EXPECT_TRUE(
      all_close(mha.forward(q, m2, m2, {padding({5, 2}, 5), false}).output, out.output, 0, 0));
}

TEST(MultiHeadAttention, CausalMaskHidesTheFuture) {
  Rng rng(12);
  MultiHeadAttention mha(small(), rng);
  randomize(mha, 13);
  const Tensor x = random_input(Shape{2, 4, 4}, 14);
  const AttentionMasks causal{Tensor(), true};
  const auto out = mha.forward(x, x, x, causal);
  for (Index bht = 0; bht < 2 * 2 * 4; ++bht) {
    const Index t = bht % 4;
    for (Index j = t + 1; j < 4; ++j) EXPECT_EQ(out.weights.data()[bht * 4 + j], 0.f);
  }
  // Changing the last position changes no earlier output.
  Tensor x2 = x.copy_data();
  for (Index b = 0; b < 2; ++b)
    for (Index d = 0; d < 4; ++d) x2.data()[(b * 4 + 3) * 4 + d] += 1.f;
  const Tensor y2 = mha.forward(x2, x2, x2, causal).output;
  for (Index b = 0; b < 2; ++b)
    for (Index i = 0; i < 3 * 4; ++i)
      EXPECT_EQ(y2.data()[b * 16 + i], out.output.data()[b * 16 + i]);
}

TEST(MultiHeadAttention, PaddingTheBatchChangesNothingAtRealPositions) {
  // Cross-attention over memories of lengths 3 and 2, first with S = 3, then padded to S = 6
  // with junk in the padding: outputs and weights over the real keys are the same.
  Rng rng(15);
  MultiHeadAttention mha(small(), rng);
  randomize(mha, 16);
  const Tensor q = random_input(Shape{2, 2, 4}, 17), m = random_input(Shape{2, 3, 4}, 18);
  Rng junk(19);
  Tensor padded = Tensor::uniform(Shape{2, 6, 4}, junk, -5.f, 5.f);
  for (Index b = 0; b < 2; ++b)
    for (Index i = 0; i < 3 * 4; ++i) padded.data()[b * 24 + i] = m.data()[b * 12 + i];
  const auto small_out = mha.forward(q, m, m, {padding({3, 2}, 3), false});
  const auto big_out = mha.forward(q, padded, padded, {padding({3, 2}, 6), false});
  EXPECT_TRUE(all_close(big_out.output, small_out.output, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(slice(big_out.weights, 3, 0, 3), small_out.weights, 1e-6, 1e-6));
}

// ----------------------------------------------------------------------------- gradients

TEST(MultiHeadAttention, Gradients) {
  // A few dozen elements per tensor: a second thread only adds fork/join waits (seconds on a
  // machine shared with other jobs).
  testing::ThreadCount one_thread(1);
  Rng rng(20);
  for (bool fused : {true, false}) {
    MultiHeadAttention mha(small(fused), rng);
    randomize(mha, 21);
    const Tensor x = random_input(Shape{2, 3, 4}, 22), m = random_input(Shape{2, 2, 4}, 23);
    const Tensor v = random_input(Shape{2, 2, 4}, 24);
    // Self-attention, causal, with a padded key.
    EXPECT_TRUE(gradcheck(
        [&](auto& in) {
          return mha.forward(in[0], in[0], in[0], {padding({3, 2}, 3), true}).output;
        },
        with_parameters({x}, mha)))
        << "self, fused " << fused;
    // Cross-attention (memory as key and value), one padded key.
    EXPECT_TRUE(gradcheck(
        [&](auto& in) {
          return mha.forward(in[0], in[1], in[1], {padding({2, 1}, 2), false}).output;
        },
        with_parameters({x, m}, mha)))
        << "cross, fused " << fused;
    // Distinct key and value.
    EXPECT_TRUE(gradcheck([&](auto& in) { return mha.forward(in[0], in[1], in[2]).output; },
                          with_parameters({x, m, v}, mha)))
        << "distinct, fused " << fused;
  }
}

// ----------------------------------------------------------------------------- dropout

TEST(MultiHeadAttention, DropoutOnWeightsInTrainingOnly) {
  Rng rng(25);
  auto dropout_rng = std::make_shared<Rng>(26);
  MultiHeadAttentionOptions o = small();
  o.dropout = 0.5f;
  MultiHeadAttention mha(o, rng, dropout_rng);
  randomize(mha, 27);
  const Tensor x = random_input(Shape{2, 3, 4}, 28);
  mha.eval();
  const auto clean = mha.forward(x, x, x);
  EXPECT_TRUE(all_close(mha.forward(x, x, x).output, clean.output, 0, 0));
  mha.train();
  const auto dropped = mha.forward(x, x, x);
  EXPECT_FALSE(all_close(dropped.output, clean.output, 1e-3, 0));
  // The returned weights are the probabilities before dropout.
  EXPECT_TRUE(all_close(dropped.weights, clean.weights, 1e-6, 1e-6));
  EXPECT_THROW_MSG(MultiHeadAttention(o, rng), "MultiHeadAttention: dropout > 0 needs a random");
}

// ----------------------------------------------------------------------------- KV cache

TEST(MultiHeadAttention, SelfAttentionCacheMatchesTheFullCausalPass) {
  // 20 steps of one position each: the cache grows past its initial capacity (16).
  Rng rng(29);
  MultiHeadAttention mha(small(), rng);
  randomize(mha, 30);
  const Index T = 20;
  const Tensor x = random_input(Shape{2, T, 4}, 31);
  NoGradGuard no_grad;
  const auto full = mha.forward(x, x, x, {Tensor(), true});
  KVCache cache(KVCache::Kind::kSelf);
  for (Index t = 0; t < T; ++t) {
    const Tensor xt = slice(x, 1, t, t + 1);
    const auto step = mha.forward(xt, xt, xt, {Tensor(), true}, &cache);
    EXPECT_EQ(cache.length(), t + 1);
    EXPECT_GE(cache.capacity(), t + 1);
    EXPECT_TRUE(all_close(step.output, slice(full.output, 1, t, t + 1), 1e-6, 1e-5)) << t;
    // weights [B, H, 1, t + 1]: row t of the full causal weights, up to key t.
    EXPECT_TRUE(
        all_close(step.weights, slice(slice(full.weights, 2, t, t + 1), 3, 0, t + 1), 1e-6, 1e-5))
        << t;
  }
  EXPECT_EQ(cache.capacity(), 32);  // 16, doubled once
  // Several positions per call (3, then 5) agree too: the causal offset counts cached keys.
  KVCache chunked(KVCache::Kind::kSelf);
  const Tensor a = slice(x, 1, 0, 3), b = slice(x, 1, 3, 8);
  mha.forward(a, a, a, {Tensor(), true}, &chunked);
  EXPECT_TRUE(all_close(mha.forward(b, b, b, {Tensor(), true}, &chunked).output,
                        slice(full.output, 1, 3, 8), 1e-6, 1e-5));
}

TEST(MultiHeadAttention, CrossAttentionCacheProjectsMemoryOnce) {
  Rng rng(32);
  MultiHeadAttention mha(small(), rng);
  randomize(mha, 33);
  const Tensor q = random_input(Shape{2, 3, 4}, 34), m = random_input(Shape{2, 5, 4}, 35);
  const AttentionMasks masks{padding({5, 3}, 5), false};
  NoGradGuard no_grad;
  const auto full = mha.forward(q, m, m, masks);
  KVCache cache(KVCache::Kind::kCross);
  for (Index t = 0; t < 3; ++t) {
    const Tensor qt = slice(q, 1, t, t + 1);
    // After the first step the memory is not needed: pass nothing.
    const auto step = t == 0 ? mha.forward(qt, m, m, masks, &cache)
                             : mha.forward(qt, Tensor(), Tensor(), masks, &cache);
    EXPECT_TRUE(all_close(step.output, slice(full.output, 1, t, t + 1), 1e-6, 1e-5)) << t;
    EXPECT_EQ(cache.length(), 5);
  }
  KVCache prepared(KVCache::Kind::kCross);
  mha.project_memory(m, prepared);
  EXPECT_TRUE(all_close(mha.forward(q, Tensor(), Tensor(), masks, &prepared).output, full.output,
                        1e-6, 1e-5));
}

TEST(MultiHeadAttention, CacheSelectReordersAndDuplicatesRows) {
  // Three steps on rows (0, 1), then keep rows (1, 1, 0) and take two more steps: the same as
  // running the reordered inputs from the start.
  Rng rng(36);
  MultiHeadAttention mha(small(), rng);
  randomize(mha, 37);
  const Tensor x = random_input(Shape{2, 5, 4}, 38);
  const IntTensor rows = IntTensor::from_vector(Shape{3}, {1, 1, 0});
  NoGradGuard no_grad;
  const Tensor reordered = index_select(x, 0, rows);
  const auto full = mha.forward(reordered, reordered, reordered, {Tensor(), true});
  KVCache cache(KVCache::Kind::kSelf);
  for (Index t = 0; t < 3; ++t) {
    const Tensor xt = slice(x, 1, t, t + 1);
    mha.forward(xt, xt, xt, {Tensor(), true}, &cache);
  }
  cache.select(rows);
  EXPECT_EQ(cache.rows(), 3);
  for (Index t = 3; t < 5; ++t) {
    const Tensor xt = slice(reordered, 1, t, t + 1);
    EXPECT_TRUE(all_close(mha.forward(xt, xt, xt, {Tensor(), true}, &cache).output,
                          slice(full.output, 1, t, t + 1), 1e-6, 1e-5));
  }
}

// ----------------------------------------------------------------------------- errors

TEST(MultiHeadAttention, BadShapesAndOptions) {
  Rng rng(39);
  MultiHeadAttentionOptions bad = small();
  bad.num_heads = 3;
  EXPECT_THROW_MSG(MultiHeadAttention(bad, rng),
                   "MultiHeadAttention: embed_dim must be a positive multiple of num_heads "
                   "(got embed_dim=4, num_heads=3)");
  MultiHeadAttention mha(small(), rng);
  const Tensor x = Tensor::zeros(Shape{2, 3, 4});
  EXPECT_THROW_MSG(mha.forward(Tensor::zeros(Shape{2, 3, 5}), x, x),
                   "MultiHeadAttention: query must be [B, T, D=4] (got [2, 3, 5])");
  EXPECT_THROW_MSG(mha.forward(x, Tensor::zeros(Shape{1, 3, 4}), Tensor::zeros(Shape{1, 3, 4})),
                   "MultiHeadAttention: key and value must be [B=2, S, D=4]");
  EXPECT_THROW_MSG(mha.forward(x, x, Tensor::zeros(Shape{2, 2, 4})),
                   "MultiHeadAttention: key and value must be");
  KVCache cache;
  EXPECT_THROW_MSG(mha.forward(x, x, x, {}, &cache),
                   "MultiHeadAttention: a KV cache is for inference only");
  NoGradGuard no_grad;
  EXPECT_THROW_MSG(mha.forward(x, x, x, {padding({3, 3}, 3), true}, &cache),
                   "MultiHeadAttention: a self-attention cache takes no key_padding mask");
  EXPECT_THROW_MSG(cache.assign(x, x), "KVCache::assign: a self-attention cache");
}

}  // namespace
}  // namespace heed
