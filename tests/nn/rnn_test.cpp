#include "heed/nn/rnn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "heed/autograd/engine.h"
#include "heed/autograd/grad_mode.h"
#include "heed/ops/shape_ops.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// Flattens and joins tensors: one tensor for gradcheck and for backward with a root gradient.
Tensor flat_concat(const std::vector<Tensor>& parts) {
  std::vector<Tensor> flat;
  for (const Tensor& t : parts) flat.push_back(reshape(t, Shape{t.numel()}));
  return concat(flat, 0);
}

RnnOptions small_options(bool bidirectional, int num_layers) {
  RnnOptions o;
  o.input_size = 2;
  o.hidden_size = 3;
  o.num_layers = num_layers;
  o.bidirectional = bidirectional;
  return o;
}

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, _] : m.named_parameters()) names.push_back(name);
  return names;
}

// ----------------------------------------------------------------------------- parameters

TEST(Rnn, ParameterNamesShapesAndInitMatchPyTorch) {
  Rng rng(1);
  RnnOptions o;
  o.input_size = 5;
  o.hidden_size = 4;
  o.num_layers = 2;
  o.bidirectional = true;
  GRU gru(o, rng);
  const std::vector<std::string> want{
      "weight_ih_l0",         "weight_hh_l0",         "bias_ih_l0",         "bias_hh_l0",
      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
      "weight_ih_l1",         "weight_hh_l1",         "bias_ih_l1",         "bias_hh_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
  EXPECT_EQ(names_of(gru), want);
  EXPECT_EQ(gru.weights(0, 0).weight_ih.shape(), (Shape{12, 5}));
  EXPECT_EQ(gru.weights(1, 1).weight_ih.shape(), (Shape{12, 8}));  // input: both directions
  EXPECT_EQ(gru.weights(1, 1).weight_hh.shape(), (Shape{12, 4}));
  EXPECT_EQ(gru.weights(0, 1).bias_hh.shape(), (Shape{12}));
  // U(-1/√H, 1/√H) = U(-0.5, 0.5) for every parameter, biases included.
  for (const auto& [name, p] : gru.named_parameters()) {
    float lo = 1, hi = -1;
    for (float v : p.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
    EXPECT_GE(lo, -0.5f) << name;
    EXPECT_LE(hi, 0.5f) << name;
    EXPECT_GT(hi - lo, 0.3f) << name;  // spread over the range, not constant
  }

  o.bias = false;
  o.num_layers = 1;
  o.bidirectional = false;
  LSTM lstm(o, rng);
  EXPECT_EQ(names_of(lstm), (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0"}));
  EXPECT_EQ(lstm.weights(0, 0).weight_ih.shape(), (Shape{16, 5}));

  GRUCell gru_cell({5, 4, true}, rng);
  EXPECT_EQ(names_of(gru_cell),
            (std::vector<std::string>{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}));
  EXPECT_EQ(gru_cell.weight_hh_.shape(), (Shape{12, 4}));
  LSTMCell lstm_cell({5, 4, true}, rng);
  EXPECT_EQ(lstm_cell.weight_ih_.shape(), (Shape{16, 5}));
}

TEST(Rnn, BadShapesAndOptions) {
  Rng rng(2);
  GRU gru(small_options(true, 2), rng);
  EXPECT_THROW_MSG(gru.forward(Tensor::zeros(Shape{2, 3})), "GRU: x must be [B, T, input_size=2]");
  EXPECT_THROW_MSG(gru.forward(Tensor::zeros(Shape{2, 3, 4})), "GRU: x must be");
  const Tensor x = Tensor::zeros(Shape{2, 3, 2});
  EXPECT_THROW_MSG(gru.forward(x, IntTensor::from_vector(Shape{3}, {1, 2, 3})),
                   "GRU: lengths must be [B] = [2]");
  EXPECT_THROW_MSG(gru.forward(x, IntTensor::from_vector(Shape{2}, {1, 4})),
                   "GRU: lengths[1] = 4 is outside [0, T=3]");
  EXPECT_THROW_MSG(gru.forward(x, IntTensor(), Tensor::zeros(Shape{2, 2, 3})),
                   "GRU: h0 must be [L·D, B, H] = [4, 2, 3]");
  LSTM lstm(small_options(false, 1), rng);
  EXPECT_THROW_MSG(lstm.forward(x, IntTensor(), Tensor(), Tensor::zeros(Shape{1, 2, 4})),
                   "LSTM: c0 must be");
  RnnOptions bad = small_options(false, 0);
  EXPECT_THROW_MSG(GRU(bad, rng), "GRU: num_layers must be > 0");
  bad = small_options(false, 2);
  bad.dropout = 0.5f;
  EXPECT_THROW_MSG(LSTM(bad, rng), "LSTM: dropout > 0 needs a random generator");
  GRUCell cell({2, 3, true}, rng);
  EXPECT_THROW_MSG(cell.forward(Tensor::zeros(Shape{2, 3})),
                   "GRUCell: x must be [N, input_size=2]");
  EXPECT_THROW_MSG(cell.forward(Tensor::zeros(Shape{2, 2}), Tensor::zeros(Shape{1, 3})),
                   "GRUCell: h must be [N, hidden_size]");
}

// ----------------------------------------------------------------------------- gradients

// Gradcheck of output, h_n (and c_n) w.r.t. x, h0, c0 and every parameter.
template <typename Layer>
void check_layer_gradients(const Layer& layer, const IntTensor& lengths, bool with_state) {
  constexpr bool kLstm = std::is_same_v<Layer, LSTM>;
  const RnnOptions& o = layer.options();
  const Index B = 2, T = 3, LD = o.num_layers * layer.num_directions();
  std::vector<Tensor> inputs{random_input(Shape{B, T, o.input_size}, 3)};
  if (with_state) inputs.push_back(random_input(Shape{LD, B, o.hidden_size}, 4));
  if (with_state && kLstm) inputs.push_back(random_input(Shape{LD, B, o.hidden_size}, 5));
  for (const Tensor& p : layer.parameters()) inputs.push_back(p);  // shared handles
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        const Tensor h0 = with_state ? in[1] : Tensor();
        RnnOutput out;
        if constexpr (kLstm)
          out = layer.forward(in[0], lengths, h0, with_state ? in[2] : Tensor());
        else
          out = layer.forward(in[0], lengths, h0);
        return kLstm ? flat_concat({out.output, out.h_n, out.c_n})
                     : flat_concat({out.output, out.h_n});
      },
      inputs));
}

TEST(Rnn, GruGradcheck) {
  Rng rng(6);
  GRU gru(small_options(true, 2), rng);
  check_layer_gradients(gru, IntTensor::from_vector(Shape{2}, {3, 2}), true);
  check_layer_gradients(gru, IntTensor(), false);
  GRU one_way(small_options(false, 1), rng);
  check_layer_gradients(one_way, IntTensor::from_vector(Shape{2}, {1, 3}), true);
}

TEST(Rnn, LstmGradcheck) {
  Rng rng(7);
  LSTM lstm(small_options(true, 2), rng);
  check_layer_gradients(lstm, IntTensor::from_vector(Shape{2}, {2, 3}), true);
  check_layer_gradients(lstm, IntTensor(), false);
}

TEST(Rnn, CellGradcheck) {
  Rng rng(8);
  GRUCell gru({2, 3, true}, rng);
  std::vector<Tensor> in{random_input(Shape{2, 2}, 9), random_input(Shape{2, 3}, 10)};
  for (const Tensor& p : gru.parameters()) in.push_back(p);
  EXPECT_TRUE(gradcheck([&](auto& v) { return gru.forward(v[0], v[1]); }, in));
  LSTMCell lstm({2, 3, false}, rng);
  in = {random_input(Shape{2, 2}, 11), random_input(Shape{2, 3}, 12),
        random_input(Shape{2, 3}, 13)};
  for (const Tensor& p : lstm.parameters()) in.push_back(p);
  EXPECT_TRUE(gradcheck(
      [&](auto& v) {
        LstmState s = lstm.forward(v[0], {v[1], v[2]});
        return flat_concat({s.h, s.c});
      },
      in));
}

// ----------------------------------------------------------------------------- packing

// Runs `layer` on a padded batch and on every sequence alone (B = 1, T = its length, no
// lengths): the real positions' outputs, the final states and all gradients must agree, and the
// padded positions must output exactly 0 and receive no gradient.
template <typename Layer>
void check_padding_invariance(Layer& layer, const std::vector<std::int32_t>& lengths, Index T) {
  constexpr bool kLstm = std::is_same_v<Layer, LSTM>;
  const RnnOptions& o = layer.options();
  const Index B = static_cast<Index>(lengths.size()), I = o.input_size, H = o.hidden_size;
  const Index DH = H * layer.num_directions(), LD = o.num_layers * layer.num_directions();
  Tensor x = random_input(Shape{B, T, I}, 14);
  Rng rng(15);
  const Tensor w = Tensor::uniform(Shape{B, T, DH}, rng, -1, 1);  // output weighting

  layer.zero_grad();
  RnnOutput batch = layer.forward(x, IntTensor::from_vector(Shape{B}, lengths));
  backward(batch.output, w);
  const Tensor dx_batch = x.grad().copy_data();
  std::vector<Tensor> dparam_batch;
  for (const Tensor& p : layer.parameters()) dparam_batch.push_back(p.grad().copy_data());
  std::vector<Tensor> dparam_sum;
  for (const Tensor& p : layer.parameters()) dparam_sum.push_back(Tensor::zeros(p.shape()));

  for (Index b = 0; b < B; ++b) {
    const Index len = lengths[b];
    SCOPED_TRACE("row " + std::to_string(b) + " of length " + std::to_string(len));
    // Row b alone, truncated to its length.
    Tensor xb = Tensor::empty(Shape{1, len, I});
    std::copy_n(x.data() + b * T * I, len * I, xb.data());
    xb.set_requires_grad();
    Tensor wb = Tensor::empty(Shape{1, len, DH});
    std::copy_n(w.data() + b * T * DH, len * DH, wb.data());
    layer.zero_grad();
    RnnOutput alone = layer.forward(xb);
    backward(alone.output, wb);
    for (Index t = 0; t < T; ++t)
      for (Index j = 0; j < DH; ++j) {
        const float got = batch.output.data()[(b * T + t) * DH + j];
        if (t < len) {
          EXPECT_NEAR(got, alone.output.data()[t * DH + j], 1e-6) << "t=" << t << " j=" << j;
        } else {
          EXPECT_EQ(got, 0.f) << "padded output t=" << t << " j=" << j;
        }
      }
    for (Index k = 0; k < LD; ++k)
      for (Index j = 0; j < H; ++j) {
        EXPECT_NEAR(batch.h_n.data()[(k * B + b) * H + j], alone.h_n.data()[k * H + j], 1e-6);
        if (kLstm) {
          EXPECT_NEAR(batch.c_n.data()[(k * B + b) * H + j], alone.c_n.data()[k * H + j], 1e-6);
        }
      }
    for (Index t = 0; t < T; ++t)
      for (Index i = 0; i < I; ++i) {
        const float got = dx_batch.data()[(b * T + t) * I + i];
        if (t < len) {
          EXPECT_NEAR(got, xb.grad().data()[t * I + i], 1e-6) << "dx t=" << t;
        } else {
          EXPECT_EQ(got, 0.f) << "dx at padded t=" << t;
        }
      }
    const auto params = layer.parameters();
    for (size_t k = 0; k < params.size(); ++k) {
      float* sum = dparam_sum[k].data();
      for (Index i = 0; i < params[k].numel(); ++i) sum[i] += params[k].grad().data()[i];
    }
  }
  // The batch loss is the sum of the rows' losses: parameter gradients add up.
  for (size_t k = 0; k < dparam_sum.size(); ++k)
    EXPECT_TRUE(all_close(dparam_batch[k], dparam_sum[k], 1e-5, 1e-5)) << "parameter " << k;
}

TEST(Rnn, GruPaddingNeverChangesRealPositions) {
  Rng rng(16);
  RnnOptions o = small_options(true, 2);
  GRU gru(o, rng);
  check_padding_invariance(gru, {5, 2, 4}, 5);
  check_padding_invariance(gru, {5, 2, 4}, 8);  // extra padding everywhere
  check_padding_invariance(gru, {1, 3}, 6);
}

TEST(Rnn, LstmPaddingNeverChangesRealPositions) {
  Rng rng(17);
  LSTM lstm(small_options(true, 2), rng);
  check_padding_invariance(lstm, {5, 2, 4}, 5);
  check_padding_invariance(lstm, {2, 3}, 7);
  LSTM one_way(small_options(false, 1), rng);
  check_padding_invariance(one_way, {3, 1}, 4);
}

TEST(Rnn, ZeroLengthRowKeepsInitialState) {
  Rng rng(18);
  GRU gru(small_options(true, 1), rng);
  Tensor x = random_input(Shape{2, 3, 2}, 19), h0 = random_input(Shape{2, 2, 3}, 20);
  RnnOutput out = gru.forward(x, IntTensor::from_vector(Shape{2}, {3, 0}), h0);
  for (Index t = 0; t < 3; ++t)
    for (Index j = 0; j < 6; ++j) EXPECT_EQ(out.output.data()[(3 + t) * 6 + j], 0.f);
  for (Index k = 0; k < 2; ++k)
    for (Index j = 0; j < 3; ++j)
      EXPECT_EQ(out.h_n.data()[(k * 2 + 1) * 3 + j], h0.data()[(k * 2 + 1) * 3 + j]);
}

// ----------------------------------------------------------------------------- long sequences

TEST(Rnn, LongUnrollBackpropagates) {
  const Index T = 500;
  Rng rng(21);
  RnnOptions o;
  o.input_size = 3;
  o.hidden_size = 4;
  GRU gru(o, rng);
  LSTM lstm(o, rng);
  Tensor x = random_input(Shape{2, T, 3}, 22);
  Rng wrng(23);
  const Tensor w = Tensor::uniform(Shape{2, T, 4}, wrng, -1, 1);
  for (int which = 0; which < 2; ++which) {
    x.zero_grad();
    RnnOutput out = which == 0 ? gru.forward(x) : lstm.forward(x);
    backward(out.output, w);
    // Every step's input gets a finite gradient, the first one included (~5 nodes per step).
    const Tensor dx = x.grad();
    for (Index i = 0; i < dx.numel(); ++i) ASSERT_TRUE(std::isfinite(dx.data()[i])) << i;
    EXPECT_NE(dx.data()[0], 0.f);
    EXPECT_NE(dx.data()[(T - 1) * 3], 0.f);
  }
  // A graph dropped without backward is freed without recursion too.
  { RnnOutput unused = gru.forward(random_input(Shape{1, 4 * T, 3}, 24)); }
}

// ----------------------------------------------------------------------------- dropout

TEST(Rnn, DropoutBetweenLayersOnlyInTraining) {
  Rng rng(25);
  RnnOptions o = small_options(true, 2);
  o.dropout = 0.5f;
  GRU gru(o, rng, std::make_shared<Rng>(26));
  Rng copy_rng(25);
  o.dropout = 0.f;
  GRU plain(o, copy_rng);  // the same weights (same init stream), no dropout
  Tensor x = random_input(Shape{2, 3, 2}, 27);
  const RnnOutput train_out = gru.forward(x);
  gru.eval();
  EXPECT_TRUE(all_close(gru.forward(x).output, plain.forward(x).output, 0, 0));
  EXPECT_FALSE(all_close(train_out.output, plain.forward(x).output, 1e-4, 0));
  // The first layer's states do not see the dropout.
  for (Index j = 0; j < 2 * 2 * 3; ++j)
    EXPECT_EQ(train_out.h_n.data()[j], plain.forward(x).h_n.data()[j]);
}

// ----------------------------------------------------------------------------- PyTorch

const nlohmann::json& torch_fixture() {
  static const nlohmann::json fixture = [] {
    const std::string path = std::string(HEED_SOURCE_DIR) + "/tests/fixtures/torch/rnn.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path + " (scripts/make_torch_fixtures.sh)");
    return nlohmann::json::parse(in);
  }();
  return fixture;
}

Tensor from_json(const nlohmann::json& j) {
  const Shape shape(j.at("shape").get<std::vector<Index>>());
  const auto values = j.at("data").get<std::vector<double>>();
  return Tensor::from_vector(shape, std::vector<float>(values.begin(), values.end()));
}

Tensor grad_input(const nlohmann::json& c, const char* key) {
  if (!c.contains(key)) return Tensor();
  Tensor t = from_json(c.at(key));
  t.set_requires_grad();
  return t;
}

// Copies every parameter by its PyTorch name; the two sets of names must be the same.
void load_parameters(Module& module, const nlohmann::json& parameters) {
  const NamedParameters named = module.named_parameters();
  ASSERT_EQ(named.size(), parameters.size());
  for (const auto& [name, p] : named) {
    ASSERT_TRUE(parameters.contains(name)) << name << " is not a PyTorch parameter";
    const Tensor value = from_json(parameters.at(name));
    ASSERT_EQ(value.shape(), p.shape()) << name;
    Tensor(p).copy_from_(value);
  }
}

// Compares the outputs, then backpropagates L = Σ w·outputs and compares every gradient.
void expect_matches_torch(const nlohmann::json& c, const std::vector<std::string>& output_names,
                          const std::vector<Tensor>& outputs, const Module& module,
                          const std::vector<std::pair<std::string, Tensor>>& inputs) {
  constexpr double kAtol = 1e-5, kRtol = 1e-5;
  std::vector<Tensor> weights;
  for (size_t k = 0; k < outputs.size(); ++k) {
    const std::string& name = output_names[k];
    EXPECT_TRUE(all_close(outputs[k], from_json(c.at("outputs").at(name)), kAtol, kRtol)) << name;
    weights.push_back(from_json(c.at("loss_weights").at(name)));
  }
  backward(flat_concat(outputs), flat_concat(weights));
  const auto& grads = c.at("grads");
  for (const auto& [name, t] : inputs)
    EXPECT_TRUE(all_close(t.grad(), from_json(grads.at(name)), kAtol, kRtol)) << "d" << name;
  for (const auto& [name, p] : module.named_parameters())
    EXPECT_TRUE(all_close(p.grad(), from_json(grads.at(name)), kAtol, kRtol)) << "d" << name;
}

void check_layer_case(const std::string& case_name) {
  SCOPED_TRACE(case_name);
  const nlohmann::json& c = torch_fixture().at("cases").at(case_name);
  const auto& oj = c.at("options");
  RnnOptions o;
  o.input_size = oj.at("input_size");
  o.hidden_size = oj.at("hidden_size");
  o.num_layers = oj.at("num_layers");
  o.bidirectional = oj.at("bidirectional");
  Rng rng(0);
  Tensor x = grad_input(c, "x"), h0 = grad_input(c, "h0"), c0 = grad_input(c, "c0");
  IntTensor lengths;
  if (!c.at("lengths").is_null()) {
    const auto values = c.at("lengths").get<std::vector<std::int32_t>>();
    lengths = IntTensor::from_vector(Shape{static_cast<Index>(values.size())}, values);
  }
  std::vector<std::pair<std::string, Tensor>> inputs{{"x", x}};
  if (h0.defined()) inputs.emplace_back("h0", h0);
  if (c0.defined()) inputs.emplace_back("c0", c0);
  if (c.at("kind") == "gru") {
    GRU gru(o, rng);
    load_parameters(gru, c.at("parameters"));
    RnnOutput out = gru.forward(x, lengths, h0);
    expect_matches_torch(c, {"output", "h_n"}, {out.output, out.h_n}, gru, inputs);
  } else {
    LSTM lstm(o, rng);
    load_parameters(lstm, c.at("parameters"));
    RnnOutput out = lstm.forward(x, lengths, h0, c0);
    expect_matches_torch(c, {"output", "h_n", "c_n"}, {out.output, out.h_n, out.c_n}, lstm, inputs);
  }
}

TEST(RnnTorch, FixtureNamesItsTorchVersion) {
  EXPECT_EQ(torch_fixture().at("torch_version").get<std::string>().rfind("1.13", 0), 0u);
}

TEST(RnnTorch, GruPackedBidirectionalTwoLayers) { check_layer_case("gru_packed"); }
TEST(RnnTorch, LstmPackedBidirectionalTwoLayers) { check_layer_case("lstm_packed"); }
TEST(RnnTorch, GruFullLengthZeroState) { check_layer_case("gru_full"); }
TEST(RnnTorch, LstmFullLengthZeroState) { check_layer_case("lstm_full"); }

TEST(RnnTorch, Cells) {
  for (const char* case_name : {"gru_cell", "lstm_cell"}) {
    SCOPED_TRACE(case_name);
    const nlohmann::json& c = torch_fixture().at("cases").at(case_name);
    const RnnCellOptions o{c.at("options").at("input_size"), c.at("options").at("hidden_size"),
                           true};
    Rng rng(0);
    Tensor x = grad_input(c, "x"), h0 = grad_input(c, "h0"), c0 = grad_input(c, "c0");
    if (std::string(case_name) == "gru_cell") {
      GRUCell cell(o, rng);
      load_parameters(cell, c.at("parameters"));
      expect_matches_torch(c, {"h"}, {cell.forward(x, h0)}, cell, {{"x", x}, {"h0", h0}});
    } else {
      LSTMCell cell(o, rng);
      load_parameters(cell, c.at("parameters"));
      LstmState s = cell.forward(x, {h0, c0});
      expect_matches_torch(c, {"h", "c"}, {s.h, s.c}, cell, {{"x", x}, {"h0", h0}, {"c0", c0}});
    }
  }
}

}  // namespace
}  // namespace heed
