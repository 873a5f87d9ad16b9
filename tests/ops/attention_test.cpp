#include "heed/ops/attention.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <functional>
#include <vector>

#include "heed/autograd/engine.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

using AttentionFn = std::function<AttentionOutput(const Tensor&, const Tensor&, const Tensor&,
                                                  const AttentionMasks&,
                                                  const AttentionOptions&)>;

const AttentionFn kFused = [](auto&... args) { return scaled_dot_product_attention(args...); };
const AttentionFn kComposite = [](auto&... args) { return attention_composite(args...); };

// ----------------------------------------------------------------------------- hand-computed

// q = [[1, 0], [0, 1]], k = [[1, 0], [0, 1], [1, 1]], v = [[1, 2], [3, 4], [5, 6]], scale 1/√2:
// the scores are [[a, 0, a], [0, a, a]] with a = 1/√2, so with e = e^a each row's weights are
// e or 1 over their sum.
struct TinyCase {
  Tensor q = Tensor::from_vector(Shape{1, 1, 2, 2}, {1, 0, 0, 1});
  Tensor k = Tensor::from_vector(Shape{1, 1, 3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor v = Tensor::from_vector(Shape{1, 1, 3, 2}, {1, 2, 3, 4, 5, 6});
  double e = std::exp(1.0 / std::sqrt(2.0));
};

std::vector<float> floats(std::initializer_list<double> values) {
  return std::vector<float>(values.begin(), values.end());
}

TEST(Attention, ForwardMatchesHandComputedValues) {
  const TinyCase c;
  const double e = c.e, z = 2 * e + 1;
  for (const AttentionFn& fn : {kFused, kComposite}) {
    const AttentionOutput r = fn(c.q, c.k, c.v, {}, {});
    EXPECT_TRUE(all_close(r.weights, floats({e / z, 1 / z, e / z, 1 / z, e / z, e / z})));
    // Row 0: (e·v0 + v1 + e·v2) / z = (6e + 3, 8e + 4) / (2e + 1) = (3, 4).
    EXPECT_TRUE(all_close(r.output, floats({3, 4, (1 + 8 * e) / z, (2 + 10 * e) / z})));
  }
}

TEST(Attention, ForwardWithKeyPaddingMatchesHandComputedValues) {
  const TinyCase c;
  const double e = c.e;
  AttentionMasks masks;
  masks.key_padding = Tensor::from_vector(Shape{1, 3}, {0, 0, 1});  // key 2 is padding
  for (const AttentionFn& fn : {kFused, kComposite}) {
    const AttentionOutput r = fn(c.q, c.k, c.v, masks, {});
    EXPECT_TRUE(all_close(r.weights, floats({e / (e + 1), 1 / (e + 1), 0, 1 / (e + 1),
                                             e / (e + 1), 0})));
    EXPECT_TRUE(all_close(r.output, floats({(e + 3) / (e + 1), (2 * e + 4) / (e + 1),
                                            (1 + 3 * e) / (1 + e), (2 + 4 * e) / (1 + e)})));
  }
}

TEST(Attention, CausalMaskOffsetsByTheExtraKeys) {
  // T = 2 queries over S = 3 keys: offset S - T = 1, so query 0 sees keys 0..1, query 1 all.
  const TinyCase c;
  const double e = c.e, z = 2 * e + 1;
  AttentionMasks masks;
  masks.causal = true;
  for (const AttentionFn& fn : {kFused, kComposite}) {
    const AttentionOutput r = fn(c.q, c.k, c.v, masks, {});
    EXPECT_TRUE(all_close(r.weights, floats({e / (e + 1), 1 / (e + 1), 0, 1 / z, e / z,
                                             e / z})));
    EXPECT_TRUE(all_close(r.output, floats({(e + 3) / (e + 1), (2 * e + 4) / (e + 1),
                                            (1 + 8 * e) / z, (2 + 10 * e) / z})));
  }
}

TEST(Attention, ExplicitScale) {
  const TinyCase c;
  AttentionOptions options;
  options.scale = 2.f;  // scores [[2, 0, 2], [0, 2, 2]]
  const double e = std::exp(2.0), z = 2 * e + 1;
  const AttentionOutput r = scaled_dot_product_attention(c.q, c.k, c.v, {}, options);
  EXPECT_TRUE(all_close(r.weights, floats({e / z, 1 / z, e / z, 1 / z, e / z, e / z})));
}

// ----------------------------------------------------------------------------- vs composite

struct Case {
  const char* name;
  Index B, H, T, S, D, Dv;
  bool padding = false;     // random key padding (at least one key visible per batch)
  bool causal = false;
  float dropout = 0.f;
  bool all_padded = false;  // batch 0 has every key padded
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

struct Result {
  Tensor output, weights, dq, dk, dv;
  Rng::State rng_after;
};

struct Inputs {
  Tensor q, k, v, dout;
  AttentionMasks masks;
};

Inputs make_inputs(const Case& c, std::uint64_t seed) {
  Rng rng(seed);
  Inputs in;
  in.q = Tensor::uniform(Shape{c.B, c.H, c.T, c.D}, rng, -1.f, 1.f);
  in.k = Tensor::uniform(Shape{c.B, c.H, c.S, c.D}, rng, -1.f, 1.f);
  in.v = Tensor::uniform(Shape{c.B, c.H, c.S, c.Dv}, rng, -1.f, 1.f);
  in.dout = Tensor::uniform(Shape{c.B, c.H, c.T, c.Dv}, rng, -1.f, 1.f);
  in.masks.causal = c.causal;
  if (c.padding || c.all_padded) {
    Tensor pad = Tensor::zeros(Shape{c.B, c.S});
    for (Index b = 0; b < c.B; ++b) {
      for (Index j = 1; j < c.S; ++j) pad.data()[b * c.S + j] = rng.uniform() < 0.3f ? 1.f : 0.f;
    }
    if (c.all_padded) {
      for (Index j = 0; j < c.S; ++j) pad.data()[j] = 1.f;
    }
    in.masks.key_padding = pad;
  }
  return in;
}

// Runs fn on fresh leaves holding the inputs' values and backpropagates `dout`.
Result run_attention(const AttentionFn& fn, const Inputs& in, const Case& c,
                     std::uint64_t rng_seed = 99) {
  Tensor q = in.q.copy_data().set_requires_grad();
  Tensor k = in.k.copy_data().set_requires_grad();
  Tensor v = in.v.copy_data().set_requires_grad();
  Rng rng(rng_seed);
  rng.reserve(3);  // start mid-stream
  AttentionOptions options;
  options.dropout = c.dropout;
  options.training = c.dropout > 0.f;
  options.rng = &rng;
  AttentionOutput r = fn(q, k, v, in.masks, options);
  backward(r.output, in.dout);
  return {r.output, r.weights.detach(), q.grad(), k.grad(), v.grad(), rng.state()};
}

class AttentionVsComposite : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionVsComposite, ValuesAndGradientsMatch) {
  const Case& c = GetParam();
  const Inputs in = make_inputs(c, 17);
  const Result fused = run_attention(kFused, in, c);
  const Result composite = run_attention(kComposite, in, c);
  EXPECT_TRUE(all_close(fused.weights, composite.weights));
  EXPECT_TRUE(all_close(fused.output, composite.output));
  EXPECT_TRUE(all_close(fused.dq, composite.dq)) << "dq";
  EXPECT_TRUE(all_close(fused.dk, composite.dk)) << "dk";
  EXPECT_TRUE(all_close(fused.dv, composite.dv)) << "dv";
  // Both consumed the same Rng counters (the dropout mask over [B, H, T, S], or none).
  EXPECT_EQ(fused.rng_after.counter, composite.rng_after.counter);
  for (const Tensor& t : {fused.output, fused.weights, fused.dq, fused.dk, fused.dv}) {
    for (float x : t.to_vector()) ASSERT_TRUE(std::isfinite(x));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionVsComposite,
    ::testing::Values(
        Case{"Plain", 2, 3, 5, 7, 4, 3},
        Case{"KeyPadding", 2, 3, 5, 7, 4, 3, true},
        Case{"CausalSquare", 2, 2, 6, 6, 4, 4, false, true},
        Case{"CausalFewerQueries", 2, 2, 3, 7, 4, 5, false, true},
        Case{"CausalAndPadding", 3, 2, 6, 6, 8, 8, true, true},
        Case{"Dropout", 2, 3, 5, 7, 4, 3, false, false, 0.3f},
        Case{"DropoutCausalPadding", 2, 2, 9, 9, 4, 4, true, true, 0.5f},
        // Several row chunks, keys not a multiple of 16, feature dims with GEMM tails.
        Case{"LongerUnaligned", 2, 2, 37, 37, 20, 33, true, true, 0.1f},
        Case{"Wide", 1, 2, 70, 90, 64, 64, true, false, 0.2f},
        Case{"CausalWide", 1, 2, 70, 70, 64, 64, false, true},
        Case{"AllKeysPadded", 2, 2, 4, 5, 4, 3, false, false, 0.f, true},
        // Queries 0..2 see no key (T - S = 3 queries before the first key).
        Case{"CausalMoreQueries", 2, 2, 7, 4, 4, 3, false, true, 0.3f}),
    [](const auto& info) { return info.param.name; });

TEST(Attention, DropoutIsReproducibleAndLeavesTheWeightsUndropped) {
  // The weights are the probabilities before dropout; the output must differ from no-dropout,
  // and two runs from the same Rng state are identical.
  const Case c{"", 2, 2, 8, 8, 4, 4, false, false, 0.5f};
  const Inputs in = make_inputs(c, 5);
  const Result a = run_attention(kFused, in, c, 7), b = run_attention(kFused, in, c, 7);
  EXPECT_EQ(a.output.to_vector(), b.output.to_vector());
  EXPECT_EQ(a.dq.to_vector(), b.dq.to_vector());
  Case no_dropout = c;
  no_dropout.dropout = 0.f;
  const Result plain = run_attention(kFused, in, no_dropout, 7);
  EXPECT_EQ(a.weights.to_vector(), plain.weights.to_vector());
  EXPECT_FALSE(all_close(a.output, plain.output));
  const Result other_seed = run_attention(kFused, in, c, 8);
  EXPECT_FALSE(all_close(a.output, other_seed.output));
}

TEST(Attention, NoDropoutWhenEvaluating) {
  const Case c{"", 1, 2, 4, 4, 4, 4};
  const Inputs in = make_inputs(c, 3);
  Rng rng(1);
  AttentionOptions options;
  options.dropout = 0.5f;
  options.training = false;
  options.rng = &rng;
  const AttentionOutput r = scaled_dot_product_attention(in.q, in.k, in.v, {}, options);
  const AttentionOutput plain = scaled_dot_product_attention(in.q, in.k, in.v, {}, {});
  EXPECT_EQ(r.output.to_vector(), plain.output.to_vector());
  EXPECT_EQ(rng.state().counter, 0u);
}

// ----------------------------------------------------------------------------- masks

TEST(Attention, MaskedKeysGetExactlyZeroWeight) {
  const Case c{"", 2, 3, 20, 20, 8, 8, true, true};
  const Inputs in = make_inputs(c, 11);
  const AttentionOutput r = scaled_dot_product_attention(in.q, in.k, in.v, in.masks, {});
  const float* pad = in.masks.key_padding.data();
  for (Index b = 0; b < c.B; ++b) {
    for (Index h = 0; h < c.H; ++h) {
      for (Index i = 0; i < c.T; ++i) {
        const float* row = r.weights.data() + ((b * c.H + h) * c.T + i) * c.S;
        double sum = 0;
        for (Index j = 0; j < c.S; ++j) {
          if (pad[b * c.S + j] != 0.f || j > i) {
            ASSERT_EQ(row[j], 0.f) << "b=" << b << " h=" << h << " i=" << i << " j=" << j;
          } else {
            EXPECT_GT(row[j], 0.f);
          }
          sum += row[j];
        }
        EXPECT_NEAR(sum, 1.0, 1e-6);  // key 0 is never padded: every row sees a key
      }
    }
  }
}

TEST(Attention, RowsWithoutVisibleKeysAreZeroNotNaN) {
  // Batch 0: every key padded. Causal with T > S: the first T - S queries of batch 1 see nothing.
  const Case c{"", 2, 2, 6, 4, 4, 3, false, true, 0.f, true};
  const Inputs in = make_inputs(c, 23);
  const Result r = run_attention(kFused, in, c);
  for (Index bh = 0; bh < c.B * c.H; ++bh) {
    for (Index i = 0; i < c.T; ++i) {
      const bool hidden = bh < c.H || i < c.T - c.S;
      for (Index j = 0; j < c.S; ++j) {
        const float w = r.weights.data()[(bh * c.T + i) * c.S + j];
        if (hidden) {
          ASSERT_EQ(w, 0.f);
        }
      }
      for (Index d = 0; d < c.Dv; ++d) {
        const float o = r.output.data()[(bh * c.T + i) * c.Dv + d];
        if (hidden) {
          ASSERT_EQ(o, 0.f) << "bh=" << bh << " i=" << i;
        }
        ASSERT_TRUE(std::isfinite(o));
      }
    }
  }
  // Batch 0 contributes nothing to any gradient.
  for (Index i = 0; i < c.H * c.T * c.D; ++i) ASSERT_EQ(r.dq.data()[i], 0.f);
  for (Index i = 0; i < c.H * c.S * c.D; ++i) ASSERT_EQ(r.dk.data()[i], 0.f);
  for (Index i = 0; i < c.H * c.S * c.Dv; ++i) ASSERT_EQ(r.dv.data()[i], 0.f);
}

// ----------------------------------------------------------------------------- gradients

TEST(Attention, Gradcheck) {
  EXPECT_TRUE(gradcheck(
      [](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2]).output; },
      {random_input(Shape{1, 2, 3, 4}, 1), random_input(Shape{1, 2, 5, 4}, 2),
       random_input(Shape{1, 2, 5, 3}, 3)}));
}

TEST(Attention, GradcheckWithMasksAndDropout) {
  AttentionMasks masks;
  masks.key_padding = Tensor::from_vector(Shape{2, 4}, {0, 0, 1, 0, 0, 1, 1, 1});
  masks.causal = true;
  EXPECT_TRUE(gradcheck(
      [&](auto& in) {
        Rng rng(13);  // the same mask on every evaluation
        AttentionOptions options;
        options.dropout = 0.3f;
        options.training = true;
        options.rng = &rng;
        return scaled_dot_product_attention(in[0], in[1], in[2], masks, options).output;
      },
      {random_input(Shape{2, 1, 3, 4}, 4), random_input(Shape{2, 1, 4, 4}, 5),
       random_input(Shape{2, 1, 4, 2}, 6)}));
}

TEST(Attention, CompositeDifferentiatesThroughTheWeights) {
  AttentionMasks masks;
  masks.key_padding = Tensor::from_vector(Shape{1, 4}, {0, 0, 0, 1});
  EXPECT_TRUE(gradcheck(
      [&](auto& in) { return attention_composite(in[0], in[1], in[2], masks).weights; },
      {random_input(Shape{1, 2, 3, 2}, 7), random_input(Shape{1, 2, 4, 2}, 8),
       random_input(Shape{1, 2, 4, 2}, 9)}));
}

TEST(Attention, FusedWeightsAreDetached) {
  Tensor q = random_input(Shape{1, 1, 2, 2}, 1);
  const AttentionOutput r = scaled_dot_product_attention(q, q, q);
  EXPECT_TRUE(r.output.requires_grad());
  EXPECT_FALSE(r.weights.requires_grad());
}

TEST(Attention, GradientsOnlyForInputsThatNeedThem) {
  const Case c{"", 2, 2, 5, 6, 4, 3, true, false};
  const Inputs in = make_inputs(c, 31);
  const Result all = run_attention(kFused, in, c);
  Tensor q = in.q.copy_data();
  Tensor k = in.k.copy_data().set_requires_grad();
  Tensor v = in.v.copy_data();
  backward(scaled_dot_product_attention(q, k, v, in.masks).output, in.dout);
  EXPECT_FALSE(q.grad().defined());
  EXPECT_FALSE(v.grad().defined());
  EXPECT_EQ(k.grad().to_vector(), all.dk.to_vector());
}

TEST(Attention, SelfAttentionGradientsAccumulate) {
  // q = k = v = x: the three gradients add up in x's buffer (the accumulate paths).
  const Case c{"", 2, 2, 6, 6, 4, 4, true, true};
  const Inputs in = make_inputs(c, 41);
  Tensor grads[2];
  int n = 0;
  for (const AttentionFn& fn : {kFused, kComposite}) {
    Tensor x = in.q.copy_data().set_requires_grad();
    backward(fn(x, x, x, in.masks, {}).output, in.dout);
    grads[n++] = x.grad();
  }
  EXPECT_TRUE(all_close(grads[0], grads[1]));
}

// ----------------------------------------------------------------------------- threads

TEST(Attention, BitwiseIdenticalForOneAndTwoThreads) {
  // B·H = 2 with 2 threads splits heads into blocks of query rows; B·H = 12 does not.
  for (const Case& c : {Case{"", 1, 2, 64, 64, 16, 16, true, true, 0.2f},
                        Case{"", 3, 4, 20, 33, 8, 8, true, false, 0.1f}}) {
    const Inputs in = make_inputs(c, 51);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const Result one = run_attention(kFused, in, c);
    omp_set_num_threads(2);
    const Result two = run_attention(kFused, in, c);
    omp_set_num_threads(saved);
    EXPECT_EQ(one.output.to_vector(), two.output.to_vector());
    EXPECT_EQ(one.weights.to_vector(), two.weights.to_vector());
    EXPECT_EQ(one.dq.to_vector(), two.dq.to_vector());
    EXPECT_EQ(one.dk.to_vector(), two.dk.to_vector());
    EXPECT_EQ(one.dv.to_vector(), two.dv.to_vector());
  }
}

// ----------------------------------------------------------------------------- errors

TEST(Attention, BadShapes) {
  Tensor q = Tensor::zeros(Shape{2, 3, 4, 8});
  Tensor k = Tensor::zeros(Shape{2, 3, 5, 8});
  Tensor v = Tensor::zeros(Shape{2, 3, 5, 6});
  EXPECT_THROW_MSG(scaled_dot_product_attention(q.with_shape(Shape{6, 4, 8}), k, v),
                   "scaled_dot_product_attention: q, k, v must be [B, H, T, D]");
  EXPECT_THROW_MSG(scaled_dot_product_attention(q, Tensor::zeros(Shape{2, 3, 5, 7}), v),
                   "scaled_dot_product_attention: q and k feature dims differ");
  EXPECT_THROW_MSG(scaled_dot_product_attention(q, k, Tensor::zeros(Shape{2, 3, 4, 6})),
                   "scaled_dot_product_attention: k and v have different numbers of keys");
  EXPECT_THROW_MSG(scaled_dot_product_attention(q, Tensor::zeros(Shape{2, 2, 5, 8}), v),
                   "scaled_dot_product_attention: batch and head dims differ");
  AttentionMasks masks;
  masks.key_padding = Tensor::zeros(Shape{2, 4});
  EXPECT_THROW_MSG(scaled_dot_product_attention(q, k, v, masks),
                   "scaled_dot_product_attention: key_padding must be [B, S] = [2, 5]");
  AttentionOptions options;
  options.dropout = 0.1f;
  options.training = true;
  EXPECT_THROW_MSG(scaled_dot_product_attention(q, k, v, {}, options),
                   "scaled_dot_product_attention: dropout during training needs options.rng");
  options.dropout = 1.f;
  EXPECT_THROW_MSG(scaled_dot_product_attention(q, k, v, {}, options),
                   "scaled_dot_product_attention: dropout must be in [0, 1)");
  EXPECT_THROW_MSG(attention_composite(q, Tensor::zeros(Shape{2, 3, 5, 7}), v),
                   "attention_composite: q and k feature dims differ");
}

}  // namespace
}  // namespace heed
