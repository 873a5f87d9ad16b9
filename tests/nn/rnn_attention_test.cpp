#include "heed/nn/rnn_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include "heed/autograd/engine.h"
#include "heed/autograd/grad_mode.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/shape_ops.h"
#include "heed/ops/softmax.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// ---- the tiny case of every hand-computed test: B = 2, S = 3, Dq = Dk = A = 2, the last
// source position of row 1 is padding. Expected values were computed by hand (scalar formulas
// of the papers; see the comments) and rounded to 7 digits.

Tensor tiny_query() { return Tensor::from_vector(Shape{2, 2}, {1, 2, -1, 0.5f}); }
Tensor tiny_keys() {
  return Tensor::from_vector(Shape{2, 3, 2}, {1, 0, 0, 1, 1, 1, 0.5f, -0.5f, 2, 0, -1, 1});
}
Tensor tiny_mask() { return Tensor::from_vector(Shape{2, 3}, {0, 0, 0, 0, 0, 1}); }

void set(Tensor& param, const std::vector<float>& values) {
  param.copy_from_(Tensor::from_vector(param.shape(), values));
}

const std::vector<float> kW = {0.5f, -0.2f, 0.1f, 0.3f};  // W (query side) [2, 2]
const std::vector<float> kU = {1.f, 0.f, -0.5f, 0.4f};    // U (key side) [2, 2]
const std::vector<float> kV = {1.f, -2.f};

RnnAttentionOutput run(const BahdanauAttention& attention, const Tensor& query, const Tensor& keys,
                       const Tensor& mask) {
  return attention.forward(query, keys, attention.precompute(keys), mask);
}
RnnAttentionOutput run(const LuongAttention& attention, const Tensor& query, const Tensor& keys,
                       const Tensor& mask) {
  return attention.forward(query, keys, attention.precompute(keys), mask);
}

TEST(BahdanauAttention, ForwardByHand) {
  Rng rng(1);
  BahdanauAttention attention({.query_dim = 2, .key_dim = 2, .attention_dim = 2}, rng);
  set(attention.query_proj_.weight_, kW);
  set(attention.key_proj_.weight_, kU);
  set(attention.key_proj_.bias_, {0.1f, -0.1f});
  set(attention.v_, kV);
  // e_j = vᵀ tanh(W s + U h_j + b), α = softmax(e) over unmasked j, c = Σ α_j h_j.
  auto out = run(attention, tiny_query(), tiny_keys(), tiny_mask());
  EXPECT_EQ(out.weights.shape(), (Shape{2, 3}));
  EXPECT_EQ(out.context.shape(), (Shape{2, 2}));
  EXPECT_TRUE(all_close(out.weights,
                        {0.6153037f, 0.0866593f, 0.2980370f, 0.1758782f, 0.8241218f, 0.f}, 1e-6));
  EXPECT_TRUE(all_close(out.context, {0.9133407f, 0.3846963f, 1.7361827f, -0.0879391f}, 1e-6));
  EXPECT_EQ(out.weights.data()[5], 0.f);  // padding: exactly zero
}

TEST(BahdanauAttention, ParameterNames) {
  Rng rng(1);
  BahdanauAttention attention({.query_dim = 3, .key_dim = 4, .attention_dim = 5}, rng);
  std::vector<std::string> names;
  for (auto& [name, t] : attention.named_parameters()) names.push_back(name);
  // A module lists its own parameters before its sub-modules'.
  EXPECT_EQ(names, (std::vector<std::string>{"v", "query_proj.weight", "key_proj.weight",
                                             "key_proj.bias"}));
  EXPECT_EQ(attention.parameter_count(), 5 * 3 + 5 * 4 + 5 + 5);
}

std::unique_ptr<LuongAttention> make_luong(LuongScore score, bool local_p = false) {
  Rng rng(2);
  auto luong = std::make_unique<LuongAttention>(
      LuongAttentionOptions{
          .score = score, .query_dim = 2, .key_dim = 2, .local_p = local_p, .window = 2},
      rng);
  LuongAttention& attention = *luong;
  if (score == LuongScore::kGeneral) set(attention.key_proj_->weight_, kW);  // W_a [Dq, Dk]
  if (score == LuongScore::kConcat) {
    set(attention.query_proj_->weight_, kW);  // W_a = [W | U]
    set(attention.key_proj_->weight_, kU);
    set(attention.v_, kV);
  }
  if (local_p) {
    set(attention.position_proj_->weight_, kW);
    set(attention.position_v_, kV);
  }
  return luong;
}

TEST(LuongAttention, DotForwardByHand) {
  // e_s = h_tᵀ h̄_s
  auto out = run(*make_luong(LuongScore::kDot), tiny_query(), tiny_keys(), tiny_mask());
  EXPECT_TRUE(all_close(out.weights,
                        {0.0900306f, 0.2447285f, 0.6652410f, 0.7772999f, 0.2227001f, 0.f}, 1e-6));
  EXPECT_TRUE(all_close(out.context, {0.7552715f, 0.9099694f, 0.8340502f, -0.3886499f}, 1e-6));
}

TEST(LuongAttention, GeneralForwardByHand) {
  // e_s = h_tᵀ W_a h̄_s
  auto out = run(*make_luong(LuongScore::kGeneral), tiny_query(), tiny_keys(), tiny_mask());
  EXPECT_TRUE(all_close(out.weights,
                        {0.3093444f, 0.2291680f, 0.4614876f, 0.6224593f, 0.3775407f, 0.f}, 1e-6));
  EXPECT_TRUE(all_close(out.context, {0.7708320f, 0.6906556f, 1.0663110f, -0.3112297f}, 1e-6));
}

TEST(LuongAttention, ConcatForwardByHand) {
  // e_s = v_aᵀ tanh(W_a [h_t; h̄_s]) (no bias)
  auto out = run(*make_luong(LuongScore::kConcat), tiny_query(), tiny_keys(), tiny_mask());
  EXPECT_TRUE(all_close(out.weights,
                        {0.6040614f, 0.0897114f, 0.3062272f, 0.1538540f, 0.8461460f, 0.f}, 1e-6));
  EXPECT_TRUE(all_close(out.context, {0.9102886f, 0.3959386f, 1.7692190f, -0.0769270f}, 1e-6));
}

TEST(LuongAttention, LocalPForwardByHand) {
  // General score; p_t = S_b · σ(v_pᵀ tanh(W_p h_t)) with S_0 = 3, S_1 = 2 (true lengths):
  // p = 0.7441343 and 0.6918653; weights α_s · exp(−(s − p_t)² / 2) (window D = 2, σ = 1).
  auto out = run(*make_luong(LuongScore::kGeneral, true), tiny_query(), tiny_keys(), tiny_mask());
  EXPECT_TRUE(all_close(out.weights,
                        {0.2345309f, 0.2217879f, 0.2097373f, 0.4899677f, 0.3600363f, 0.f}, 1e-6));
  EXPECT_TRUE(all_close(out.context, {0.4442682f, 0.4315252f, 0.9650564f, -0.2449839f}, 1e-6));
  EXPECT_EQ(out.weights.data()[5], 0.f);
}

TEST(LuongAttention, ParametersPerScore) {
  auto names = [](const LuongAttention& a) {
    std::vector<std::string> out;
    for (auto& [name, t] : a.named_parameters()) out.push_back(name + str(t.shape()));
    return out;
  };
  Rng rng(3);
  LuongAttention dot({.score = LuongScore::kDot, .query_dim = 4, .key_dim = 4}, rng);
  EXPECT_TRUE(names(dot).empty());
  LuongAttention general({.score = LuongScore::kGeneral, .query_dim = 4, .key_dim = 6}, rng);
  EXPECT_EQ(names(general), (std::vector<std::string>{"key_proj.weight[4, 6]"}));
  LuongAttention concat({.score = LuongScore::kConcat,
                         .query_dim = 4,
                         .key_dim = 6,
                         .attention_dim = 5,
                         .local_p = true},
                        rng);
  EXPECT_EQ(names(concat),
            (std::vector<std::string>{"v[5]", "position_v[5]", "query_proj.weight[5, 4]",
                                      "key_proj.weight[5, 6]", "position_proj.weight[5, 4]"}));
}

// ---- gradients: query, keys and every parameter, through context and weights together.

template <typename Attention>
::testing::AssertionResult check_gradients(Attention& attention, const Tensor& mask,
                                           std::uint64_t seed) {
  auto query = random_input(Shape{2, attention.options().query_dim}, seed);
  auto keys = random_input(Shape{2, 3, attention.options().key_dim}, seed + 1);
  std::vector<Tensor> inputs = {query, keys};
  for (auto& p : attention.parameters()) inputs.push_back(p);
  return gradcheck(
      [&](const std::vector<Tensor>& in) {
        auto out = run(attention, in[0], in[1], mask);
        return concat({out.context, out.weights}, 1);
      },
      inputs);
}

TEST(BahdanauAttention, Gradcheck) {
  Rng rng(4);
  BahdanauAttention attention({.query_dim = 3, .key_dim = 2, .attention_dim = 4}, rng);
  EXPECT_TRUE(check_gradients(attention, Tensor(), 10));
  EXPECT_TRUE(check_gradients(attention, tiny_mask(), 11));
}

TEST(LuongAttention, Gradcheck) {
  for (LuongScore score : {LuongScore::kDot, LuongScore::kGeneral, LuongScore::kConcat}) {
    for (bool local_p : {false, true}) {
      SCOPED_TRACE(str("score ", static_cast<int>(score), ", local_p ", local_p));
      Rng rng(5);
      const Index Dq = 3, Dk = score == LuongScore::kDot ? 3 : 2;
      LuongAttention attention({.score = score,
                                .query_dim = Dq,
                                .key_dim = Dk,
                                .attention_dim = 4,
                                .local_p = local_p,
                                .window = 2},
                               rng);
      EXPECT_TRUE(check_gradients(attention, tiny_mask(), 20));
    }
  }
}

// ---- hard attention

TEST(HardAttention, GumbelMaxSamplesFollowTheWeights) {
  // argmax(log α + g) is a sample from α (the Gumbel-max trick behind Jang et al. 2017, §2).
  Rng rng(6);
  const std::vector<float> alpha = {0.5f, 0.3f, 0.2f};
  const Index N = 20000;
  Tensor log_alpha = Tensor::empty(Shape{N, 3});
  for (Index i = 0; i < N; ++i)
    for (int s = 0; s < 3; ++s) log_alpha.data()[i * 3 + s] = std::log(alpha[s]);
  Tensor y = straight_through_gumbel_softmax(log_alpha, 1.f, rng);
  std::vector<double> freq(3, 0.0);
  for (Index i = 0; i < N; ++i)
    for (int s = 0; s < 3; ++s) freq[s] += y.data()[i * 3 + s] / N;
  for (int s = 0; s < 3; ++s) EXPECT_NEAR(freq[s], alpha[s], 0.015) << "position " << s;
}

TEST(HardAttention, StraightThroughValueIsOneHotAndGradientIsTheSoftSample) {
  const float kInf = std::numeric_limits<float>::infinity();
  auto log_alpha = random_input(Shape{3, 4}, 7, -2.f, 0.f);
  log_alpha.data()[3] = -kInf;  // a masked position
  Rng rng(8);
  const Rng::State state = rng.state();
  Tensor y = straight_through_gumbel_softmax(log_alpha, 0.5f, rng);
  for (Index b = 0; b < 3; ++b) {
    float ones = 0.f;
    for (Index s = 0; s < 4; ++s) {
      const float value = y.data()[b * 4 + s];
      EXPECT_TRUE(value == 0.f || value == 1.f) << value;
      ones += value;
    }
    EXPECT_EQ(ones, 1.f);
  }
  EXPECT_EQ(y.data()[3], 0.f);
  Rng wrng(9);
  Tensor w = Tensor::uniform(y.shape(), wrng, -1.f, 1.f);
  backward(y, w);
  const Tensor straight_through = log_alpha.grad().copy_data();
  // The soft sample with the same noise: softmax((log α + g) / τ).
  log_alpha.zero_grad();
  rng.set_state(state);
  Tensor y_soft = softmax(mul(add(log_alpha, gumbel_noise(log_alpha.shape(), rng)), 2.f), -1);
  backward(y_soft, w);
  EXPECT_TRUE(all_close(straight_through, log_alpha.grad(), 1e-7, 1e-6));
  EXPECT_EQ(straight_through.data()[3], 0.f);
}

// Σ_i w_i · f(x)_i as a double, for finite differences.
double weighted(const Tensor& out, const Tensor& w) { return testing::weighted_sum(out, w); }

// The straight-through gradient of a hard attention module equals the finite-difference
// gradient of its soft surrogate: with L = Σ w · context and context linear in the weights y,
// ∂L/∂y_bs = w_b · keys_bs is constant, so the straight-through estimator's gradient is the true
// gradient of Σ_bs y_soft,bs(θ) · (w_b · keys_bs), y_soft = softmax((log α(θ) + g) / τ) with the
// same noise g. log α comes from the soft twin of the module (same parameters, hard = false).
template <typename Attention, typename Options>
void check_straight_through(Options options, std::uint64_t seed) {
  auto sampling = std::make_shared<Rng>(seed);
  Options soft_options = options;
  soft_options.hard = false;
  Rng init_hard(seed), init_soft(seed);
  Attention hard(options, init_hard, sampling);
  Attention soft(soft_options, init_soft);
  hard.train();
  soft.train();
  const Index B = 2, S = 3, Dk = options.key_dim;
  auto query = random_input(Shape{B, options.query_dim}, seed + 1);
  Tensor keys = random_input(Shape{B, S, Dk}, seed + 2).detach();
  keys.set_requires_grad();
  Tensor mask = tiny_mask();
  Rng wrng(seed + 3);
  Tensor w = Tensor::uniform(Shape{B, Dk}, wrng, -1.f, 1.f);

  // Analytic, through the hard module; keys_proj from a detached copy so that the keys'
  // gradient is the value path only.
  const Rng::State state = sampling->state();
  auto out = hard.forward(query, keys, hard.precompute(keys.detach()), mask);
  backward(out.context, w);
  // Value path: ∂L/∂keys_bs = y_bs · w_b, with y the one-hot.
  for (Index b = 0; b < B; ++b)
    for (Index s = 0; s < S; ++s)
      for (Index d = 0; d < Dk; ++d)
        EXPECT_FLOAT_EQ(keys.grad().data()[(b * S + s) * Dk + d],
                        out.weights.data()[b * S + s] * w.data()[b * Dk + d]);

  // Numeric, through the soft surrogate with the same noise.
  NoGradGuard no_grad;
  Tensor c = Tensor::empty(Shape{B, S});  // ∂L/∂y
  for (Index b = 0; b < B; ++b)
    for (Index s = 0; s < S; ++s) {
      double acc = 0;
      for (Index d = 0; d < Dk; ++d)
        acc += w.data()[b * Dk + d] * keys.data()[(b * S + s) * Dk + d];
      c.data()[b * S + s] = static_cast<float>(acc);
    }
  auto surrogate = [&]() {
    Tensor alpha = soft.forward(query, keys, soft.precompute(keys), mask).weights;
    Rng noise(0);
    noise.set_state(state);
    Tensor g = gumbel_noise(alpha.shape(), noise);
    Tensor logits = add(log(add(alpha, 1e-30f)), g);  // masked: log(1e-30) + g ≪ the rest
    return weighted(softmax(mul(logits, 1.f / options.temperature), -1), c);
  };
  const double eps = 1e-2;
  float* q = query.data();
  for (Index i = 0; i < query.numel(); ++i) {
    const float orig = q[i];
    q[i] = orig + eps;
    const double plus = surrogate();
    q[i] = orig - eps;
    const double minus = surrogate();
    q[i] = orig;
    EXPECT_NEAR(query.grad().data()[i], (plus - minus) / (2 * eps), 2e-3) << "query " << i;
  }
}

TEST(HardAttention, BahdanauStraightThroughGradient) {
  check_straight_through<BahdanauAttention>(
      BahdanauAttentionOptions{
          .query_dim = 3, .key_dim = 2, .attention_dim = 4, .hard = true, .temperature = 2.f},
      30);
}

TEST(HardAttention, LuongStraightThroughGradient) {
  for (LuongScore score : {LuongScore::kGeneral, LuongScore::kConcat}) {
    for (bool local_p : {false, true}) {
      SCOPED_TRACE(str("score ", static_cast<int>(score), ", local_p ", local_p));
      check_straight_through<LuongAttention>(LuongAttentionOptions{.score = score,
                                                                   .query_dim = 3,
                                                                   .key_dim = 2,
                                                                   .attention_dim = 4,
                                                                   .local_p = local_p,
                                                                   .window = 2,
                                                                   .hard = true,
                                                                   .temperature = 2.f},
                                             40);
    }
  }
}

TEST(HardAttention, EvaluationTakesTheArgmaxOfTheSoftWeights) {
  auto sampling = std::make_shared<Rng>(50);
  Rng init_hard(51), init_soft(51);
  BahdanauAttention hard({.query_dim = 2, .key_dim = 2, .attention_dim = 3, .hard = true},
                         init_hard, sampling);
  BahdanauAttention soft({.query_dim = 2, .key_dim = 2, .attention_dim = 3}, init_soft);
  hard.eval();
  const Rng::State before = sampling->state();
  auto out = run(hard, tiny_query(), tiny_keys(), tiny_mask());
  auto alpha = run(soft, tiny_query(), tiny_keys(), tiny_mask()).weights;
  EXPECT_EQ(sampling->state().counter, before.counter);  // no sampling at evaluation
  for (Index b = 0; b < 2; ++b) {
    Index best = 0;
    for (Index s = 1; s < 3; ++s)
      if (alpha.data()[b * 3 + s] > alpha.data()[b * 3 + best]) best = s;
    for (Index s = 0; s < 3; ++s)
      EXPECT_EQ(out.weights.data()[b * 3 + s], s == best ? 1.f : 0.f);
    for (Index d = 0; d < 2; ++d)  // the context is the chosen key itself
      EXPECT_EQ(out.context.data()[b * 2 + d], tiny_keys().data()[(b * 3 + best) * 2 + d]);
  }
}

// ---- masks: padding gets exactly zero weight, and extra padding changes nothing

template <typename Attention>
void check_padding(Attention& attention, const char* what) {
  SCOPED_TRACE(what);
  Rng rng(60);
  const Index B = 3, S = 4, Dk = attention.options().key_dim;
  Tensor query = Tensor::uniform(Shape{B, attention.options().query_dim}, rng, -1.f, 1.f);
  Tensor keys = Tensor::uniform(Shape{B, S, Dk}, rng, -1.f, 1.f);
  const std::vector<int> lengths = {4, 2, 1};
  Tensor mask = Tensor::zeros(Shape{B, S});
  for (Index b = 0; b < B; ++b)
    for (Index s = lengths[b]; s < S; ++s) mask.data()[b * S + s] = 1.f;
  // The same batch with two more padding positions holding garbage.
  const Index S2 = S + 2;
  Tensor keys2 = Tensor::uniform(Shape{B, S2, Dk}, rng, -50.f, 50.f);
  Tensor mask2 = Tensor::ones(Shape{B, S2});
  for (Index b = 0; b < B; ++b)
    for (Index s = 0; s < lengths[b]; ++s) {
      mask2.data()[b * S2 + s] = 0.f;
      for (Index d = 0; d < Dk; ++d)
        keys2.data()[(b * S2 + s) * Dk + d] = keys.data()[(b * S + s) * Dk + d];
    }
  for (bool training : {true, false}) {
    attention.train(training);
    auto out = run(attention, query, keys, mask);
    for (Index b = 0; b < B; ++b)
      for (Index s = lengths[b]; s < S; ++s)
        EXPECT_EQ(out.weights.data()[b * S + s], 0.f) << "row " << b << " position " << s;
    if (attention.options().hard) continue;  // the noise depends on S
    auto out2 = run(attention, query, keys2, mask2);
    EXPECT_TRUE(all_close(out.context, out2.context, 1e-6, 1e-5));
    for (Index b = 0; b < B; ++b)
      for (Index s = 0; s < S2; ++s)
        EXPECT_NEAR(out2.weights.data()[b * S2 + s], s < S ? out.weights.data()[b * S + s] : 0.f,
                    1e-6);
  }
}

TEST(RnnAttentionMasks, PaddingGetsExactlyZeroWeight) {
  Rng rng(61);
  auto sampling = std::make_shared<Rng>(62);
  BahdanauAttention bahdanau({.query_dim = 3, .key_dim = 2, .attention_dim = 4}, rng);
  check_padding(bahdanau, "bahdanau");
  BahdanauAttention bahdanau_hard(
      {.query_dim = 3, .key_dim = 2, .attention_dim = 4, .hard = true}, rng, sampling);
  check_padding(bahdanau_hard, "bahdanau hard");
  for (LuongScore score : {LuongScore::kDot, LuongScore::kGeneral, LuongScore::kConcat}) {
    for (bool local_p : {false, true}) {
      for (bool hard : {false, true}) {
        LuongAttention luong({.score = score,
                              .query_dim = 2,
                              .key_dim = 2,
                              .local_p = local_p,
                              .window = 4,
                              .hard = hard},
                             rng, sampling);
        check_padding(luong, str("luong ", static_cast<int>(score), " local_p ", local_p,
                                 " hard ", hard)
                                 .c_str());
      }
    }
  }
}

// ---- errors name the module and the shapes

TEST(RnnAttentionErrors, BadShapesAndOptions) {
  Rng rng(70);
  BahdanauAttention attention({.query_dim = 3, .key_dim = 2, .attention_dim = 4}, rng);
  Tensor keys = Tensor::zeros(Shape{2, 5, 2});
  Tensor keys_proj = attention.precompute(keys);
  EXPECT_THROW_MSG(attention.forward(Tensor::zeros(Shape{2, 4}), keys, keys_proj),
                   "BahdanauAttention: query must be [B, query_dim=3] (got [2, 4])");
  EXPECT_THROW_MSG(attention.forward(Tensor::zeros(Shape{3, 3}), keys, keys_proj),
                   "BahdanauAttention: keys must be [B=3, S, key_dim=2] (got [2, 5, 2])");
  EXPECT_THROW_MSG(attention.forward(Tensor::zeros(Shape{2, 3}), keys, keys),
                   "BahdanauAttention: keys_proj must be precompute(keys) = [2, 5, 4]");
  EXPECT_THROW_MSG(attention.forward(Tensor::zeros(Shape{2, 3}), keys, keys_proj,
                                     Tensor::zeros(Shape{2, 4})),
                   "BahdanauAttention: key_padding_mask must be [B, S] = [2, 5] (got [2, 4])");
  EXPECT_THROW_MSG(attention.precompute(Tensor::zeros(Shape{2, 5, 3})),
                   "BahdanauAttention: keys must be [B, S, key_dim=2] (got [2, 5, 3])");
  EXPECT_THROW_MSG(BahdanauAttention({.query_dim = 3, .key_dim = 2, .attention_dim = 4,
                                      .hard = true},
                                     rng),
                   "BahdanauAttention: hard attention needs a sampling Rng");
  EXPECT_THROW_MSG(
      LuongAttention({.score = LuongScore::kDot, .query_dim = 3, .key_dim = 2}, rng),
      "LuongAttention: the dot score needs query_dim == key_dim (got 3 and 2)");
  EXPECT_THROW_MSG(LuongAttention({.score = LuongScore::kGeneral,
                                   .query_dim = 3,
                                   .key_dim = 2,
                                   .local_p = true,
                                   .window = 0},
                                  rng),
                   "LuongAttention: window must be > 0 (got 0)");
  LuongAttention luong({.score = LuongScore::kGeneral, .query_dim = 3, .key_dim = 2}, rng);
  EXPECT_THROW_MSG(luong.forward(Tensor::zeros(Shape{2, 3}), keys, keys),
                   "LuongAttention: keys_proj must be precompute(keys) = [2, 5, 3] (got [2, 5, 2])");
}

}  // namespace
}  // namespace heed
