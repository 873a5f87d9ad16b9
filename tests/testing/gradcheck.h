// gradcheck: compares an op's analytic gradients with central finite differences.
//
// The scalar checked is L = Σ_i w_i · out_i with a fixed random w (not a plain sum: softmax's
// outputs always sum to 1, so d(sum)/dx is zero whatever the backward computes). L is
// accumulated in double. Every element of every input with requires_grad is perturbed by ±eps.
// Defaults: eps 1e-2, atol 1e-3, rtol 1e-2 (float32 forward; see STYLE.md §7). An op that needs
// other tolerances passes them with a comment saying why.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <vector>

#include "heed/autograd/engine.h"
#include "heed/autograd/grad_mode.h"
#include "heed/tensor/tensor.h"
#include "heed/util/check.h"

namespace heed::testing {

struct GradcheckOptions {
  double eps = 1e-2;
  double atol = 1e-3;
  double rtol = 1e-2;
  std::uint64_t seed = 1234;
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

inline double weighted_sum(const Tensor& out, const Tensor& w) {
  double acc = 0;
  for (Index i = 0; i < out.numel(); ++i)
    acc += static_cast<double>(out.data()[i]) * static_cast<double>(w.data()[i]);
  return acc;
}

inline ::testing::AssertionResult gradcheck(const TensorFn& fn, std::vector<Tensor> inputs,
                                            GradcheckOptions opt = {}) {
  for (auto& t : inputs) t.zero_grad();
  // Analytic: backward with the weights as the output gradient (= dL/dout).
  Tensor out = fn(inputs);
  Rng rng(opt.seed);
  Tensor w = Tensor::uniform(out.shape(), rng, -1.f, 1.f);
  if (!out.requires_grad())
    return ::testing::AssertionFailure() << "output does not require grad";
  backward(out, w);

  std::ostringstream failures;
  int n_fail = 0;
  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    Tensor analytic = x.grad();
    float* px = x.data();
    for (Index i = 0; i < x.numel(); ++i) {
      const float orig = px[i];
      px[i] = static_cast<float>(orig + opt.eps);
      const double lp = weighted_sum(fn(inputs), w);
      px[i] = static_cast<float>(orig - opt.eps);
      const double lm = weighted_sum(fn(inputs), w);
      px[i] = orig;
      const double numeric = (lp - lm) / (2 * opt.eps);
      const double got = analytic.defined() ? analytic.data()[i] : 0.0;
      if (std::abs(got - numeric) > opt.atol + opt.rtol * std::abs(numeric)) {
        if (++n_fail <= 8)
          failures << "\n  input " << k << " element " << i << ": analytic " << got
                   << ", numeric " << numeric;
      }
    }
  }
  if (n_fail > 0)
    return ::testing::AssertionFailure() << n_fail << " gradient mismatches:" << failures.str();
  return ::testing::AssertionSuccess();
}

// A random input of `shape` marked requires_grad, values uniform in [lo, hi).
inline Tensor random_input(const Shape& shape, std::uint64_t seed, float lo = -1.f,
                           float hi = 1.f) {
  Rng rng(seed);
  Tensor t = Tensor::uniform(shape, rng, lo, hi);
  t.set_requires_grad(true);
  return t;
}

// Element-wise comparison with a readable failure message.
inline ::testing::AssertionResult all_close(const Tensor& got, const std::vector<float>& want,
                                            double atol = 1e-5, double rtol = 1e-5) {
  if (got.numel() != static_cast<Index>(want.size()))
    return ::testing::AssertionFailure()
           << "size " << got.numel() << " (shape " << got.shape() << ") != " << want.size();
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got.data()[i], e = want[i];
    if (!(std::abs(g - e) <= atol + rtol * std::abs(e)))
      return ::testing::AssertionFailure() << "element " << i << ": got " << g << ", want " << e;
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult all_close(const Tensor& got, const Tensor& want,
                                            double atol = 1e-5, double rtol = 1e-5) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << "shape " << got.shape() << " != " << want.shape();
  return all_close(got, want.to_vector(), atol, rtol);
}

}  // namespace heed::testing

// EXPECT_THROW_MSG(stmt, "matmul") — expects heed::Error whose message contains the text.
#define EXPECT_THROW_MSG(stmt, text)                                                   \
  do {                                                                                 \
    try {                                                                              \
      stmt;                                                                            \
      ADD_FAILURE() << "expected heed::Error containing \"" << text << "\"";            \
    } catch (const ::heed::Error& e) {                                                 \
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos)                   \
          << "message was: " << e.what();                                              \
    }                                                                                  \
  } while (0)
