// A toy classifier for optimizer tests: two interleaved spirals in 2-D and a one-hidden-layer
// MLP (linear → tanh → linear) that outputs one logit per point.
//
// The loss is the mean logistic loss L = mean_n softplus(−y_n·z_n) over labels y = ±1. Its
// gradient with respect to the logits is written out here, dL/dz_n = −y_n·σ(−y_n·z_n)/N, and
// fed to backward() as the seed, so these tests need no loss op.
#pragma once

#include <cmath>
#include <numbers>

#include "heed/autograd/engine.h"
#include "heed/nn/module.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/matmul.h"
#include "heed/tensor/rng.h"

namespace heed::testing {

struct Spirals {
  Tensor points;               // [N, 2]
  std::vector<float> labels;   // N values, ±1
};

// `per_class` points on each of two spirals of 1.5 turns, the second the first rotated by π,
// with Gaussian noise of `noise` on each coordinate.
inline Spirals make_spirals(Index per_class, Rng& rng, float noise = 0.02f) {
  Spirals data{Tensor::empty(Shape{2 * per_class, 2}), {}};
  float* xy = data.points.data();
  for (Index i = 0; i < 2 * per_class; ++i) {
    const float sign = i < per_class ? 1.f : -1.f;
    const float t = 0.1f + 0.9f * rng.uniform();  // radius; stays off the crowded centre
    const float angle = 3.f * std::numbers::pi_v<float> * t;
    xy[2 * i] = sign * t * std::cos(angle) + rng.normal(0.f, noise);
    xy[2 * i + 1] = sign * t * std::sin(angle) + rng.normal(0.f, noise);
    data.labels.push_back(sign);
  }
  return data;
}

class Mlp : public Module {
 public:
  // torch.nn.Linear's default init: U(−1/√fan_in, 1/√fan_in) for weights and biases.
  Mlp(Index hidden, Rng& rng) {
    const float a1 = 1.f / std::sqrt(2.f), a2 = 1.f / std::sqrt(static_cast<float>(hidden));
    w1_ = register_parameter("w1", Tensor::uniform(Shape{hidden, 2}, rng, -a1, a1));
    b1_ = register_parameter("b1", Tensor::uniform(Shape{hidden}, rng, -a1, a1));
    w2_ = register_parameter("w2", Tensor::uniform(Shape{1, hidden}, rng, -a2, a2));
    b2_ = register_parameter("b2", Tensor::uniform(Shape{1}, rng, -a2, a2));
  }

  // x [N, 2] -> logits [N, 1]
  Tensor forward(const Tensor& x) const { return linear(tanh(linear(x, w1_, b1_)), w2_, b2_); }

 private:
  Tensor w1_, b1_, w2_, b2_;
};

// One forward and backward of the mean logistic loss; returns the loss.
inline double logistic_backward(const Mlp& model, const Spirals& data) {
  Tensor logits = model.forward(data.points);
  const Index n = logits.numel();
  Tensor seed = Tensor::empty(logits.shape());
  double loss = 0;
  for (Index i = 0; i < n; ++i) {
    const double margin = data.labels[i] * logits.data()[i];               // y·z
    loss += margin > 0 ? std::log1p(std::exp(-margin)) : -margin + std::log1p(std::exp(margin));
    const double sigma_neg = 1.0 / (1.0 + std::exp(margin));               // σ(−y·z)
    seed.data()[i] = static_cast<float>(-data.labels[i] * sigma_neg / n);  // dL/dz
  }
  backward(logits, seed);
  return loss / n;
}

// Fraction of points whose logit has the sign of their label.
inline double accuracy(const Mlp& model, const Spirals& data) {
  Tensor logits = model.forward(data.points);
  Index correct = 0;
  for (Index i = 0; i < logits.numel(); ++i) correct += logits.data()[i] * data.labels[i] > 0;
  return static_cast<double>(correct) / logits.numel();
}

}  // namespace heed::testing
