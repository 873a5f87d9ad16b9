#include "heed/ops/rnn_cells.h"

#include <gtest/gtest.h>

#include <cmath>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/shape_ops.h"
#include "ops/kernels/fast_math.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// ---- the vectorizable σ / tanh / exp the cells use, against the standard library

TEST(RnnCellMath, FastFunctionsMatchStd) {
  double worst_exp = 0, worst_tanh = 0, worst_sigmoid = 0;
  for (float x = -20.f; x <= 20.f; x += 0.001953125f) {  // 2^-9 steps, ~20k points
    worst_exp = std::max(worst_exp, std::abs(kernels::fast_exp(x) / std::exp(double(x)) - 1));
    worst_tanh = std::max(worst_tanh, std::abs(kernels::fast_tanh(x) - std::tanh(double(x))));
    worst_sigmoid = std::max(worst_sigmoid,
                             std::abs(kernels::fast_sigmoid(x) - 1 / (1 + std::exp(-double(x)))));
  }
  EXPECT_LT(worst_exp, 3e-7);   // relative, ~2.5 ulp
  EXPECT_LT(worst_tanh, 2e-7);  // absolute (|tanh| ≤ 1)
  EXPECT_LT(worst_sigmoid, 2e-7);
  // Relative accuracy near 0, where 1 - 2/(e^2x + 1) would cancel.
  EXPECT_NEAR(kernels::fast_tanh(1e-4f) / 1e-4f, 1.0, 1e-6);
  EXPECT_EQ(kernels::fast_tanh(-50.f), -1.f);
  EXPECT_EQ(kernels::fast_sigmoid(100.f), 1.f);
  EXPECT_EQ(kernels::fast_exp(-100.f), 0.f);
}

// ---- GRU

// r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·h_n), h = (1 − z)·n + z·h_prev from
// primitive ops: the reference the fused cell must match in values and gradients.
Tensor gru_composite(const Tensor& gx, const Tensor& gh, const Tensor& hp) {
  const Index H = hp.size(1);
  auto third = [H](const Tensor& t, int k) { return slice(t, 1, k * H, (k + 1) * H); };
  Tensor r = sigmoid(third(gx, 0) + third(gh, 0));
  Tensor z = sigmoid(third(gx, 1) + third(gh, 1));
  Tensor n = tanh(third(gx, 2) + r * third(gh, 2));
  return (1.f - z) * n + z * hp;
}

TEST(GruCell, ForwardHandComputed) {
  // Row 0 advances; row 1 is held (keep = 0) and must return h_prev unchanged.
  Tensor gx = Tensor::from_vector(Shape{2, 6}, {0.5f, -0.3f, 0.2f, 0.1f, 0.8f, -0.6f,  //
                                                0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f});
  Tensor gh = Tensor::from_vector(Shape{2, 6}, {0.1f, 0.4f, 0.2f, -0.5f, -0.4f, 0.9f,  //
                                                1, 1, 1, 1, 1, 1});
  Tensor hp = Tensor::from_vector(Shape{2, 2}, {0.6f, -0.2f, 0.7f, -0.8f});
  Tensor keep = Tensor::from_vector(Shape{2}, {1, 0});
  // j = 0: r = σ(0.6), z = σ(-0.1), n = tanh(0.8 - 0.4·r), h = (1 - z)·n + 0.6·z (Python, double).
  EXPECT_TRUE(all_close(gru_cell(gx, gh, hp, keep), {0.557582107f, -0.156195223f, 0.7f, -0.8f},
                        1e-6, 1e-6));
  // Without a mask row 0 is the same and row 1 advances too (it no longer equals h_prev).
  Tensor h = gru_cell(gx, gh, hp);
  EXPECT_EQ(h.shape(), (Shape{2, 2}));
  EXPECT_NEAR(h.data()[0], 0.557582107f, 1e-6);
  EXPECT_NEAR(h.data()[1], -0.156195223f, 1e-6);
  EXPECT_GT(std::abs(h.data()[2] - 0.7f), 1e-2);
}

TEST(GruCell, MatchesCompositeValuesAndGradients) {
  const Index N = 3, H = 5;
  Tensor gx = random_input(Shape{N, 3 * H}, 1, -2, 2);
  Tensor gh = random_input(Shape{N, 3 * H}, 2, -2, 2);
  Tensor hp = random_input(Shape{N, H}, 3);
  Rng rng(4);
  Tensor w = Tensor::uniform(Shape{N, H}, rng, -1, 1);

  Tensor fused = gru_cell(gx, gh, hp);
  backward(fused, w);
  const Tensor dgx = gx.grad().copy_data(), dgh = gh.grad().copy_data(),
               dhp = hp.grad().copy_data();
  for (Tensor* t : {&gx, &gh, &hp}) t->zero_grad();
  Tensor composite = gru_composite(gx, gh, hp);
  backward(composite, w);

  EXPECT_TRUE(all_close(fused, composite, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(dgx, gx.grad(), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(dgh, gh.grad(), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(dhp, hp.grad(), 1e-6, 1e-5));
}

TEST(GruCell, Gradcheck) {
  const Index N = 3, H = 4;
  auto inputs = [&] {
    return std::vector<Tensor>{random_input(Shape{N, 3 * H}, 5), random_input(Shape{N, 3 * H}, 6),
                               random_input(Shape{N, H}, 7)};
  };
  EXPECT_TRUE(gradcheck([](auto& in) { return gru_cell(in[0], in[1], in[2]); }, inputs()));
  Tensor keep = Tensor::from_vector(Shape{N}, {1, 0, 1});
  EXPECT_TRUE(gradcheck([&](auto& in) { return gru_cell(in[0], in[1], in[2], keep); }, inputs()));
}

TEST(GruCell, HeldRowPassesGradientThrough) {
  const Index H = 3;
  Tensor gx = random_input(Shape{2, 3 * H}, 8), gh = random_input(Shape{2, 3 * H}, 9);
  Tensor hp = random_input(Shape{2, H}, 10);
  Tensor keep = Tensor::from_vector(Shape{2}, {0, 1});
  Rng rng(11);
  Tensor w = Tensor::uniform(Shape{2, H}, rng, -1, 1);
  backward(gru_cell(gx, gh, hp, keep), w);
  for (Index j = 0; j < H; ++j) EXPECT_EQ(hp.grad().data()[j], w.data()[j]);  // dh_prev = dh
  for (Index j = 0; j < 3 * H; ++j) {
    EXPECT_EQ(gx.grad().data()[j], 0.f);
    EXPECT_EQ(gh.grad().data()[j], 0.f);
  }
  // The advancing row does get gate gradients.
  EXPECT_NE(gx.grad().data()[3 * H], 0.f);
}

TEST(GruCell, BadShapes) {
  Tensor gx = Tensor::zeros(Shape{2, 6}), hp = Tensor::zeros(Shape{2, 2});
  EXPECT_THROW_MSG(gru_cell(Tensor::zeros(Shape{2, 8}), gx, hp), "gru_cell: gates_x must be");
  EXPECT_THROW_MSG(gru_cell(gx, Tensor::zeros(Shape{3, 6}), hp), "gru_cell: gates_h must be");
  EXPECT_THROW_MSG(gru_cell(gx, gx, Tensor::zeros(Shape{2})), "gru_cell: h_prev must be");
  EXPECT_THROW_MSG(gru_cell(gx, gx, hp, Tensor::ones(Shape{3})), "gru_cell: keep must be [N]");
}

// ---- LSTM

LstmState lstm_composite(const Tensor& gx, const Tensor& gh, const Tensor& cp) {
  const Index H = cp.size(1);
  auto quarter = [&](int k) {
    return slice(gx, 1, k * H, (k + 1) * H) + slice(gh, 1, k * H, (k + 1) * H);
  };
  Tensor i = sigmoid(quarter(0)), f = sigmoid(quarter(1)), g = tanh(quarter(2)),
         o = sigmoid(quarter(3));
  Tensor c = f * cp + i * g;
  return {o * tanh(c), c};
}

// Both outputs as one tensor, for gradcheck and comparisons.
Tensor packed(const LstmState& s) { return concat({s.h, s.c}, 0); }

TEST(LstmCell, ForwardHandComputed) {
  Tensor gx = Tensor::from_vector(Shape{2, 8}, {0.5f, -0.3f, 0.2f, 0.1f, 0.8f, -0.6f, 0.4f, -0.7f,
                                                0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f});
  Tensor gh = Tensor::from_vector(
      Shape{2, 8}, {0.1f, 0.4f, 0.2f, -0.5f, -0.4f, 0.9f, 0.3f, 0.2f, 1, 1, 1, 1, 1, 1, 1, 1});
  Tensor hp = Tensor::from_vector(Shape{2, 2}, {0.6f, -0.2f, 0.7f, -0.8f});
  Tensor cp = Tensor::from_vector(Shape{2, 2}, {-1.5f, 0.4f, 2.0f, -3.0f});
  Tensor keep = Tensor::from_vector(Shape{2}, {1, 0});
  // j = 0: i = σ(0.6), f = σ(0.4), g = tanh(0.4), o = σ(0.5); c = -1.5·f + i·g; h = o·tanh(c).
  LstmState s = lstm_cell(gx, gh, hp, cp, keep);
  EXPECT_EQ(s.h.shape(), (Shape{2, 2}));
  EXPECT_EQ(s.c.shape(), (Shape{2, 2}));
  EXPECT_TRUE(all_close(s.h, {-0.383202267f, 0.114613678f, 0.7f, -0.8f}, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(s.c, {-0.652715047f, 0.313457995f, 2.0f, -3.0f}, 1e-6, 1e-6));
}

TEST(LstmCell, MatchesCompositeValuesAndGradients) {
  const Index N = 3, H = 5;
  Tensor gx = random_input(Shape{N, 4 * H}, 12, -2, 2);
  Tensor gh = random_input(Shape{N, 4 * H}, 13, -2, 2);
  Tensor hp = random_input(Shape{N, H}, 14);
  Tensor cp = random_input(Shape{N, H}, 15, -2, 2);
  Rng rng(16);
  Tensor w = Tensor::uniform(Shape{2 * N, H}, rng, -1, 1);

  Tensor fused = packed(lstm_cell(gx, gh, hp, cp));
  backward(fused, w);
  const Tensor dgx = gx.grad().copy_data(), dgh = gh.grad().copy_data(),
               dcp = cp.grad().copy_data();
  EXPECT_FALSE(hp.grad().defined());  // no keep mask: h_prev is not read
  for (Tensor* t : {&gx, &gh, &cp}) t->zero_grad();
  Tensor composite = packed(lstm_composite(gx, gh, cp));
  backward(composite, w);

  EXPECT_TRUE(all_close(fused, composite, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(dgx, gx.grad(), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(dgh, gh.grad(), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(dcp, cp.grad(), 1e-6, 1e-5));
}

TEST(LstmCell, Gradcheck) {
  const Index N = 3, H = 4;
  auto inputs = [&] {
    return std::vector<Tensor>{random_input(Shape{N, 4 * H}, 17), random_input(Shape{N, 4 * H}, 18),
                               random_input(Shape{N, H}, 19), random_input(Shape{N, H}, 20)};
  };
  EXPECT_TRUE(
      gradcheck([](auto& in) { return packed(lstm_cell(in[0], in[1], in[2], in[3])); }, inputs()));
  Tensor keep = Tensor::from_vector(Shape{N}, {0, 1, 0});
  EXPECT_TRUE(gradcheck(
      [&](auto& in) { return packed(lstm_cell(in[0], in[1], in[2], in[3], keep)); }, inputs()));
  // Only h used downstream (c's half of the packed gradient is zero), and only c.
  EXPECT_TRUE(
      gradcheck([&](auto& in) { return lstm_cell(in[0], in[1], in[2], in[3], keep).h; }, inputs()));
  EXPECT_TRUE(
      gradcheck([&](auto& in) { return lstm_cell(in[0], in[1], in[2], in[3]).c; }, inputs()));
}

TEST(LstmCell, HeldRowPassesGradientThrough) {
  const Index H = 3;
  Tensor gx = random_input(Shape{2, 4 * H}, 21), gh = random_input(Shape{2, 4 * H}, 22);
  Tensor hp = random_input(Shape{2, H}, 23), cp = random_input(Shape{2, H}, 24);
  Tensor keep = Tensor::from_vector(Shape{2}, {1, 0});
  Rng rng(25);
  Tensor w = Tensor::uniform(Shape{4, H}, rng, -1, 1);  // (dh rows 0-1, dc rows 0-1)
  backward(packed(lstm_cell(gx, gh, hp, cp, keep)), w);
  for (Index j = 0; j < H; ++j) {
    EXPECT_EQ(hp.grad().data()[H + j], w.data()[H + j]);      // row 1: dh_prev = dh
    EXPECT_EQ(cp.grad().data()[H + j], w.data()[3 * H + j]);  // row 1: dc_prev = dc
    EXPECT_EQ(hp.grad().data()[j], 0.f);  // row 0 advances: h_prev does not enter the cell
  }
  for (Index j = 0; j < 4 * H; ++j) {
    EXPECT_EQ(gx.grad().data()[4 * H + j], 0.f);
    EXPECT_EQ(gh.grad().data()[4 * H + j], 0.f);
  }
}

TEST(LstmCell, BadShapes) {
  Tensor g = Tensor::zeros(Shape{2, 8}), s = Tensor::zeros(Shape{2, 2});
  EXPECT_THROW_MSG(lstm_cell(Tensor::zeros(Shape{2, 6}), g, s, s), "lstm_cell: gates_x must be");
  EXPECT_THROW_MSG(lstm_cell(g, g, s, Tensor::zeros(Shape{2, 3})), "lstm_cell: c_prev");
  EXPECT_THROW_MSG(lstm_cell(g, g, s, s, Tensor::ones(Shape{2, 1})), "lstm_cell: keep must be [N]");
  EXPECT_THROW_MSG(lstm_cell(g, g, s, Tensor()), "lstm_cell: undefined input");
}

}  // namespace
}  // namespace heed
