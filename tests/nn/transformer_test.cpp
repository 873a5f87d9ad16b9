#include "heed/nn/transformer.h"

#include <gtest/gtest.h>

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

TransformerLayerOptions tiny(bool norm_first, Activation activation) {
  TransformerLayerOptions o;
  o.d_model = 4;
  o.num_heads = 2;
  o.dim_feedforward = 6;
  o.dropout = 0.f;
  o.activation = activation;
  o.norm_first = norm_first;
  return o;
}

// Random parameters (LayerNorm scales around 1), so biases and norms all matter.
void randomize(Module& m, std::uint64_t seed) {
  Rng rng(seed);
  for (auto& [name, p] : m.named_parameters()) {
    const bool scale =
        name.find("norm") != std::string::npos && name.compare(name.size() - 6, 6, "weight") == 0;
    Tensor(p).copy_from_(scale ? Tensor::uniform(p.shape(), rng, 0.8f, 1.2f)
                               : Tensor::uniform(p.shape(), rng, -0.6f, 0.6f));
  }
}

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

// x [B, T, D] with rows b >= ... : a copy padded to T2 positions with junk after T.
Tensor pad_time(const Tensor& x, Index T2, std::uint64_t seed) {
  const Index B = x.size(0), T = x.size(1), D = x.size(2);
  Rng rng(seed);
  Tensor out = Tensor::uniform(Shape{B, T2, D}, rng, -3.f, 3.f);
  for (Index b = 0; b < B; ++b)
    for (Index i = 0; i < T * D; ++i) out.data()[b * T2 * D + i] = x.data()[b * T * D + i];
  return out;
}

// Positions [0, length_b) of each row of a and b agree.
void expect_same_real_positions(const Tensor& a, const Tensor& b, const std::vector<int>& lengths) {
  const Index D = a.size(2);
  for (size_t r = 0; r < lengths.size(); ++r)
    for (Index i = 0; i < lengths[r] * D; ++i)
      EXPECT_NEAR(a.data()[r * a.size(1) * D + i], b.data()[r * b.size(1) * D + i], 1e-5)
          << "row " << r << ", element " << i;
}

// Tensors of a few dozen elements: a second thread only adds fork/join waits, which on a machine
// shared with other jobs cost a scheduler slice each (2 s instead of 0.1 s per gradcheck).
using OneThread = testing::ThreadCount;

const std::pair<bool, Activation> kVariants[] = {{false, Activation::kRelu},
                                                 {false, Activation::kGelu},
                                                 {true, Activation::kRelu},
                                                 {true, Activation::kGelu}};

// ----------------------------------------------------------------------------- parameters

TEST(TransformerLayers, ParameterNamesMatchPyTorch) {
  Rng rng(1);
  TransformerEncoderLayer encoder(tiny(false, Activation::kRelu), rng);
  EXPECT_EQ(names_of(encoder),
            (std::vector<std::string>{
                "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"}));
  EXPECT_EQ(encoder.linear1_.weight_.shape(), (Shape{6, 4}));
  TransformerDecoderLayer decoder(tiny(true, Activation::kGelu), rng);
  EXPECT_EQ(
      names_of(decoder),
      (std::vector<std::string>{
          "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
          "self_attn.out_proj.bias", "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias",
          "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias", "linear1.weight",
          "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
          "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias"}));
  TransformerEncoder stack(tiny(true, Activation::kRelu), 2, true, rng);
  const auto names = names_of(stack);
  EXPECT_EQ(names.front(), "layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(names[12], "layers.1.self_attn.in_proj_weight");
  EXPECT_EQ(names.back(), "norm.bias");
}

// ----------------------------------------------------------------------------- gradients

// Post-norm with ReLU and pre-norm with GELU here; all four combinations are checked against
// PyTorch's gradients in transformer_torch_test.cpp.
const std::pair<bool, Activation> kGradcheckVariants[] = {{false, Activation::kRelu},
                                                          {true, Activation::kGelu}};

TEST(TransformerLayers, EncoderLayerGradients) {
  OneThread one_thread(1);
  for (auto [norm_first, activation] : kGradcheckVariants) {
    Rng rng(2);
    TransformerEncoderLayer layer(tiny(norm_first, activation), rng);
    randomize(layer, 3);
    const Tensor x = random_input(Shape{2, 3, 4}, 4);
    EXPECT_TRUE(gradcheck(
        [&](auto& in) {
          return layer.forward(in[0], padding({3, 2}, 3)).output;
        },
        with_parameters({x}, layer)))
        << "norm_first " << norm_first << ", gelu " << (activation == Activation::kGelu);
  }
}

TEST(TransformerLayers, DecoderLayerGradients) {
  OneThread one_thread(1);
  for (auto [norm_first, activation] : kGradcheckVariants) {
    Rng rng(5);
    TransformerDecoderLayer layer(tiny(norm_first, activation), rng);
    randomize(layer, 6);
    const Tensor x = random_input(Shape{2, 3, 4}, 7), memory = random_input(Shape{2, 2, 4}, 8);
    TransformerDecoderMasks masks;
    masks.memory_key_padding = padding({2, 1}, 2);
    EXPECT_TRUE(gradcheck([&](auto& in) { return layer.forward(in[0], in[1], masks).output; },
                          with_parameters({x, memory}, layer)))
        << "norm_first " << norm_first << ", gelu " << (activation == Activation::kGelu);
  }
}

// ----------------------------------------------------------------------------- masks

TEST(TransformerLayers, PaddingTheBatchChangesNothingAtRealPositions) {
  OneThread one_thread(1);
  // Source lengths 4 and 2. The same batch padded from S = 4 to S = 7 with junk: encoder outputs
  // at real positions, and decoder outputs everywhere, are unchanged.
  const std::vector<int> lengths{4, 2};
  for (auto [norm_first, activation] : kVariants) {
    Rng rng(9);
    TransformerEncoderLayer encoder(tiny(norm_first, activation), rng);
    TransformerDecoderLayer decoder(tiny(norm_first, activation), rng);
    randomize(encoder, 10);
    randomize(decoder, 11);
    const Tensor x = pad_time(random_input(Shape{2, 2, 4}, 12), 4, 13);  // junk after row 1's 2
    const Tensor x_big = pad_time(x, 7, 14);
    const Tensor mem = encoder.forward(x, padding(lengths, 4)).output;
    const Tensor mem_big = encoder.forward(x_big, padding(lengths, 7)).output;
    expect_same_real_positions(mem, mem_big, lengths);

    const Tensor y = random_input(Shape{2, 3, 4}, 15);
    TransformerDecoderMasks masks, masks_big;
    masks.memory_key_padding = padding(lengths, 4);
    masks_big.memory_key_padding = padding(lengths, 7);
    EXPECT_TRUE(all_close(decoder.forward(y, mem_big, masks_big).output,
                          decoder.forward(y, mem, masks).output, 1e-5, 1e-5));
    // Target padding too: 2 more target positions change nothing before them (causal).
    const Tensor y_big = pad_time(y, 5, 16);
    expect_same_real_positions(decoder.forward(y, mem, masks).output,
                               decoder.forward(y_big, mem, masks).output, {3, 3});
  }
}

// ----------------------------------------------------------------------------- decoding

TEST(TransformerLayers, IncrementalDecoderMatchesTheFullPass) {
  OneThread one_thread(1);
  // Two stacked decoder layers with caches, one position per step, against the teacher-forced
  // pass over all positions; then a select() mid-way (beam search reordering rows).
  for (auto [norm_first, activation] : kVariants) {
    Rng rng(17);
    TransformerDecoder decoder(tiny(norm_first, activation), 2, norm_first, rng);
    randomize(decoder, 18);
    const Index T = 6;
    const Tensor y = random_input(Shape{2, T, 4}, 19), memory = random_input(Shape{2, 3, 4}, 20);
    TransformerDecoderMasks masks;
    masks.memory_key_padding = padding({3, 2}, 3);
    NoGradGuard no_grad;
    const auto full = decoder.forward(y, memory, masks);
    auto caches = decoder.make_caches(memory);
    for (Index t = 0; t < 3; ++t) {
      const auto step = decoder.forward(slice(y, 1, t, t + 1), Tensor(), masks, &caches);
      EXPECT_TRUE(all_close(step.output, slice(full.output, 1, t, t + 1), 1e-5, 1e-5)) << t;
      EXPECT_TRUE(all_close(step.last_cross_attention,
                            slice(full.last_cross_attention, 2, t, t + 1), 1e-6, 1e-5));
    }
    const IntTensor rows = IntTensor::from_vector(Shape{3}, {1, 0, 1});
    for (auto& cache : caches) cache.select(rows);
    masks.memory_key_padding = index_select(masks.memory_key_padding, 0, rows);
    const Tensor expected = index_select(full.output, 0, rows);
    const Tensor y_rows = index_select(y, 0, rows);
    for (Index t = 3; t < T; ++t) {
      const auto step = decoder.forward(slice(y_rows, 1, t, t + 1), Tensor(), masks, &caches);
      EXPECT_TRUE(all_close(step.output, slice(expected, 1, t, t + 1), 1e-5, 1e-5)) << t;
    }
  }
}

TEST(TransformerLayers, EncoderStackReturnsAttentionPerLayer) {
  OneThread one_thread(1);
  Rng rng(21);
  TransformerEncoder encoder(tiny(true, Activation::kRelu), 3, true, rng);
  const Tensor x = random_input(Shape{2, 4, 4}, 22);
  const auto out = encoder.forward(x, padding({4, 1}, 4), true);
  ASSERT_EQ(out.self_attention.size(), 3u);
  for (const Tensor& w : out.self_attention) {
    ASSERT_EQ(w.shape(), (Shape{2, 2, 4, 4}));
    // Row 1 has one real key: all its queries put weight 1 on it.
    for (Index i = 0; i < 2 * 4; ++i) EXPECT_FLOAT_EQ(w.data()[(8 + i) * 4], 1.f);
  }
  EXPECT_TRUE(encoder.forward(x).self_attention.empty());
}

TEST(TransformerLayers, DropoutIsActiveInTrainingOnly) {
  Rng rng(23);
  auto dropout_rng = std::make_shared<Rng>(24);
  TransformerLayerOptions o = tiny(false, Activation::kRelu);
  o.dropout = 0.3f;
  TransformerEncoderLayer layer(o, rng, dropout_rng);
  const Tensor x = random_input(Shape{2, 3, 4}, 25);
  layer.eval();
  const Tensor clean = layer.forward(x).output;
  layer.train();
  EXPECT_FALSE(all_close(layer.forward(x).output, clean, 1e-3, 0));
  layer.eval();
  EXPECT_TRUE(all_close(layer.forward(x).output, clean, 0, 0));
  EXPECT_THROW_MSG(TransformerEncoderLayer(o, rng), "needs a random generator");
}

TEST(TransformerLayers, BadOptions) {
  Rng rng(26);
  TransformerLayerOptions o = tiny(false, Activation::kRelu);
  o.dim_feedforward = 0;
  EXPECT_THROW_MSG(TransformerEncoderLayer(o, rng),
                   "TransformerEncoderLayer: d_model, num_heads and dim_feedforward must be > 0");
  EXPECT_THROW_MSG(TransformerDecoderLayer(o, rng), "TransformerDecoderLayer: d_model");
  EXPECT_THROW_MSG(TransformerDecoder(tiny(false, Activation::kRelu), 0, false, rng),
                   "TransformerDecoder: num_layers must be > 0 (got 0)");
}

}  // namespace
}  // namespace heed
