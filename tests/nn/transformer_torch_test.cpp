// Agreement with PyTorch 1.13: nn.MultiheadAttention, nn.TransformerEncoderLayer,
// nn.TransformerDecoderLayer (post-/pre-norm, relu/gelu, padding and causal masks),
// F.layer_norm and F.cross_entropy (label smoothing, ignore_index). Outputs and the gradients of
// a fixed random weighting of the output, w.r.t. every input and every parameter, loaded by
// PyTorch's parameter names. Reference values: tests/fixtures/torch/transformer.json, written by
// scripts/fixtures/transformer.py (float64 results for float32 inputs).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "heed/autograd/engine.h"
#include "heed/nn/multi_head_attention.h"
#include "heed/nn/transformer.h"
#include "heed/ops/layer_norm.h"
#include "heed/ops/loss.h"
#include "heed/ops/shape_ops.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using nlohmann::json;

const json& torch_fixture() {
  static const json fixture = [] {
    const std::string path =
        std::string(HEED_SOURCE_DIR) + "/tests/fixtures/torch/transformer.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path + " (scripts/make_torch_fixtures.sh)");
    return json::parse(in);
  }();
  return fixture;
}

Tensor from_json(const json& j) {
  const Shape shape(j.at("shape").get<std::vector<Index>>());
  const auto values = j.at("data").get<std::vector<double>>();
  return Tensor::from_vector(shape, std::vector<float>(values.begin(), values.end()));
}

Tensor mask_from_json(const json& j) { return j.is_null() ? Tensor() : from_json(j); }

// Every input of the case as a leaf that wants a gradient.
std::map<std::string, Tensor> leaves(const json& c) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, value] : c.at("inputs").items()) {
    Tensor t = from_json(value);
    t.set_requires_grad();
    out[name] = t;
  }
  return out;
}

// Copies every parameter by its PyTorch name; the two sets of names must be the same.
void load_parameters(Module& module, const json& parameters) {
  const NamedParameters named = module.named_parameters();
  ASSERT_EQ(named.size(), parameters.size());
  for (const auto& [name, p] : named) {
    ASSERT_TRUE(parameters.contains(name)) << name << " is not a PyTorch parameter";
    const Tensor value = from_json(parameters.at(name));
    ASSERT_EQ(value.shape(), p.shape()) << name;
    Tensor(p).copy_from_(value);
  }
}

// |got - want| <= 1e-5 · (|want| + max |want|): 1e-5 relative, with the tensor's own scale as
// the floor for elements near zero. float32 forward/backward against float64 references.
::testing::AssertionResult agrees(const Tensor& got, const json& want_json) {
  const Tensor want = from_json(want_json);
  double scale = 0;
  for (float v : want.to_vector()) scale = std::max(scale, std::abs(double(v)));
  return testing::all_close(got, want, 1e-5 * scale, 1e-5);
}

// Compares `output` (and the attention weights, if given), backpropagates L = Σ w·output and
// compares the gradient of every input and parameter.
void expect_matches_torch(const json& c, const Tensor& output, const Module& module,
                          const std::map<std::string, Tensor>& inputs,
                          const Tensor& weights = Tensor()) {
  EXPECT_TRUE(agrees(output, c.at("outputs").at("output"))) << "output";
  if (weights.defined()) {
    EXPECT_TRUE(agrees(weights, c.at("outputs").at("weights"))) << "weights";
  }
  backward(output, from_json(c.at("loss_weights").at("output")).with_shape(output.shape()));
  const json& grads = c.at("grads");
  for (const auto& [name, t] : inputs) EXPECT_TRUE(agrees(t.grad(), grads.at(name))) << "d" << name;
  for (const auto& [name, p] : module.named_parameters())
    EXPECT_TRUE(agrees(p.grad(), grads.at(name))) << "d" << name;
}

TEST(TransformerTorch, FixtureIsFromTorch113) {
  EXPECT_EQ(torch_fixture().at("torch_version").get<std::string>().rfind("1.13", 0), 0u);
}

TEST(TransformerTorch, MultiheadAttention) {
  for (const auto& [kind, c] : torch_fixture().at("multihead_attention").items()) {
    SCOPED_TRACE(kind);
    Rng rng(1);
    MultiHeadAttentionOptions o;
    o.embed_dim = c.at("options").at("embed_dim");
    o.num_heads = c.at("options").at("num_heads");
    o.bias = c.at("options").at("bias");
    MultiHeadAttention mha(o, rng);
    load_parameters(mha, c.at("parameters"));
    auto in = leaves(c);
    const AttentionMasks masks{mask_from_json(c.at("key_padding")), c.at("causal").get<bool>()};
    MultiHeadAttentionOutput out;
    if (in.count("x"))
      out = mha.forward(in["x"], in["x"], in["x"], masks);
    else if (in.count("memory"))
      out = mha.forward(in["query"], in["memory"], in["memory"], masks);
    else
      out = mha.forward(in["query"], in["key"], in["value"], masks);
    expect_matches_torch(c, out.output, mha, in, out.weights);
  }
}

TransformerLayerOptions layer_options(const json& o) {
  TransformerLayerOptions l;
  l.d_model = o.at("d_model");
  l.num_heads = o.at("num_heads");
  l.dim_feedforward = o.at("dim_feedforward");
  l.dropout = 0.f;
  l.activation = o.at("activation") == "gelu" ? Activation::kGelu : Activation::kRelu;
  l.norm_first = o.at("norm_first");
  return l;
}

TEST(TransformerTorch, EncoderLayer) {
  for (const auto& [name, c] : torch_fixture().at("encoder_layer").items()) {
    SCOPED_TRACE(name);
    Rng rng(2);
    TransformerEncoderLayer layer(layer_options(c.at("options")), rng);
    load_parameters(layer, c.at("parameters"));
    auto in = leaves(c);
    const auto out = layer.forward(in["x"], from_json(c.at("key_padding")));
    expect_matches_torch(c, out.output, layer, in);
  }
}

TEST(TransformerTorch, DecoderLayer) {
  for (const auto& [name, c] : torch_fixture().at("decoder_layer").items()) {
    SCOPED_TRACE(name);
    Rng rng(3);
    TransformerDecoderLayer layer(layer_options(c.at("options")), rng);
    load_parameters(layer, c.at("parameters"));
    auto in = leaves(c);
    TransformerDecoderMasks masks;
    masks.tgt_key_padding = from_json(c.at("tgt_key_padding"));
    masks.memory_key_padding = from_json(c.at("memory_key_padding"));
    masks.causal = true;
    const auto out = layer.forward(in["x"], in["memory"], masks);
    expect_matches_torch(c, out.output, layer, in);
  }
}

TEST(TransformerTorch, LayerNorm) {
  const json& c = torch_fixture().at("layer_norm");
  auto in = leaves(c);
  const Tensor out = layer_norm(in["x"], in["weight"], in["bias"], 1e-5f);
  expect_matches_torch(c, out, Module(), in);
}

TEST(TransformerTorch, CrossEntropy) {
  for (const auto& [name, c] : torch_fixture().at("cross_entropy").items()) {
    SCOPED_TRACE(name);
    auto in = leaves(c);
    const auto targets = c.at("targets").get<std::vector<std::int32_t>>();
    CrossEntropyOptions o;
    o.ignore_index = c.at("ignore_index");
    o.label_smoothing = c.at("label_smoothing");
    const Tensor loss = cross_entropy(
        in["logits"], IntTensor::from_vector(Shape{Index(targets.size())}, targets), o);
    expect_matches_torch(c, reshape(loss, Shape{1}), Module(), in);
  }
}

}  // namespace
}  // namespace heed
