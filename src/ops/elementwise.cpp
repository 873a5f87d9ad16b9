// Elementwise ops.
//
// Binary (broadcast to out = broadcast(a, b)):
//   add  y = a + b     da = dy                 db = dy
//   sub  y = a - b     da = dy                 db = -dy
//   mul  y = a · b     da = dy · b             db = dy · a
//   div  y = a / b     da = dy / b             db = -dy · a / b²
// each input's gradient summed over the dims along which it was broadcast. Saved: the inputs
// that the formulas above need (none for add/sub).
//
// Unary y = f(x), dx = dy · f'(·), with f' taken from the output where that is cheapest:
//   exp  f' = y        tanh  f' = 1 - y²       sigmoid  f' = y(1 - y)      sqrt  f' = 1/(2y)
//   log  f' = 1/x      pow   f' = p·x^(p-1)    relu     f' = [x > 0]
//   gelu f' = Φ(x) + x·φ(x)   (Hendrycks & Gimpel 2016, exact erf form)
// All loops are flat, contiguous and OpenMP-parallel above kParallelGrain elements.
#include "heed/ops/elementwise.h"

#include <cmath>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/broadcast.h"

namespace heed {
namespace {

// ----------------------------------------------------------------------------- binary

enum class BinaryOp { kAdd, kSub, kMul, kDiv };

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "add";
    case BinaryOp::kSub: return "sub";
    case BinaryOp::kMul: return "mul";
    case BinaryOp::kDiv: return "div";
  }
  return "?";
}

template <BinaryOp kOp>
inline float apply(float a, float b) {
  if constexpr (kOp == BinaryOp::kAdd) return a + b;
  if constexpr (kOp == BinaryOp::kSub) return a - b;
  if constexpr (kOp == BinaryOp::kMul) return a * b;
  if constexpr (kOp == BinaryOp::kDiv) return a / b;
}

template <BinaryOp kOp>
void binary_forward(const Tensor& a, const Tensor& b, Tensor& out) {
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  const Index n = out.numel();
  if (a.shape() == b.shape()) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (Index i = 0; i < n; ++i) po[i] = apply<kOp>(pa[i], pb[i]);
  } else if (b.numel() == 1 && a.numel() == n) {
    const float s = pb[0];
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (Index i = 0; i < n; ++i) po[i] = apply<kOp>(pa[i], s);
  } else {
    kernels::for_each_broadcast(
        out.shape(), kernels::broadcast_strides(a.shape(), out.shape()),
        kernels::broadcast_strides(b.shape(), out.shape()),
        [=](Index i, Index ia, Index ib) { po[i] = apply<kOp>(pa[ia], pb[ib]); });
  }
}

// Adds the out-shaped gradient contribution `g` into input i's gradient, summing over the
// broadcast dims of that input.
void add_reduced(Node& node, int i, const float* g, const Shape& out_shape) {
  auto slot = node.grad_slot(i);
  kernels::reduce_to_shape(g, out_shape, slot.tensor.data(), slot.tensor.shape(),
                           slot.accumulate);
}

// Computes the out-shaped tensor fn(i, ia, ib) (ia/ib index the broadcast inputs).
template <typename Fn>
Tensor out_shaped(const Shape& out, const Shape& sa, const Shape& sb, Fn fn) {
  Tensor t = Tensor::empty(out);
  float* pt = t.data();
  kernels::for_each_broadcast(out, kernels::broadcast_strides(sa, out),
                              kernels::broadcast_strides(sb, out),
                              [=](Index i, Index ia, Index ib) { pt[i] = fn(i, ia, ib); });
  return t;
}

template <BinaryOp kOp>
void binary_backward(Node& node, const Tensor& a, const Tensor& b, const Shape& a_shape,
                     const Shape& b_shape) {
  const Shape& out_shape = node.shape();
  const float* dy = node.grad().data();
  if constexpr (kOp == BinaryOp::kAdd || kOp == BinaryOp::kSub) {
    if (node.needs_grad(0)) add_reduced(node, 0, dy, out_shape);
    if (node.needs_grad(1)) {
      if constexpr (kOp == BinaryOp::kAdd) {
        add_reduced(node, 1, dy, out_shape);
      } else {
        const Index n = out_shape.numel();
        Tensor neg = Tensor::empty(out_shape);
        float* pn = neg.data();
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
        for (Index i = 0; i < n; ++i) pn[i] = -dy[i];
        add_reduced(node, 1, pn, out_shape);
      }
    }
  } else {
    const float* pa = a.data();
    const float* pb = b.data();
    if (node.needs_grad(0)) {
      Tensor g = out_shaped(out_shape, a_shape, b_shape, [=](Index i, Index, Index ib) {
        return kOp == BinaryOp::kMul ? dy[i] * pb[ib] : dy[i] / pb[ib];
      });
      add_reduced(node, 0, g.data(), out_shape);
    }
    if (node.needs_grad(1)) {
      Tensor g = out_shaped(out_shape, a_shape, b_shape, [=](Index i, Index ia, Index ib) {
        return kOp == BinaryOp::kMul ? dy[i] * pa[ia] : -dy[i] * pa[ia] / (pb[ib] * pb[ib]);
      });
      add_reduced(node, 1, g.data(), out_shape);
    }
  }
}

template <BinaryOp kOp>
Tensor binary(const Tensor& a, const Tensor& b) {
  const char* name = binary_name(kOp);
  CHECK(a.defined() && b.defined(), name, ": undefined operand");
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(out_shape);
  binary_forward<kOp>(a, b, out);
  constexpr bool kSavesInputs = kOp == BinaryOp::kMul || kOp == BinaryOp::kDiv;
  record(name, out, {&a, &b},
         [a = kSavesInputs ? a.detach() : Tensor(), b = kSavesInputs ? b.detach() : Tensor(),
          a_shape = a.shape(), b_shape = b.shape()](Node& node) {
           binary_backward<kOp>(node, a, b, a_shape, b_shape);
         });
  return out;
}

// ----------------------------------------------------------------------------- unary

// What the derivative is a function of: the input, the output, or nothing (a constant).
enum class Saved { kInput, kOutput, kNothing };

// y = f(x); backward dx (+)= dy · df(saved), where `saved` is x or y as chosen per op.
template <Saved kSaved, typename Fwd, typename Deriv>
Tensor unary(const char* name, const Tensor& x, Fwd f, Deriv df) {
  CHECK(x.defined(), name, ": undefined input");
  Tensor out = Tensor::empty(x.shape());
  const float* px = x.data();
  float* py = out.data();
  const Index n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) py[i] = f(px[i]);
  record(name, out, {&x},
         [saved = kSaved == Saved::kInput    ? x.detach()
                  : kSaved == Saved::kOutput ? out.detach()
                                             : Tensor(),
          df](Node& node) {
           auto slot = node.grad_slot(0);
           const float* dy = node.grad().data();
           float* dx = slot.tensor.data();
           const Index m = node.grad().numel();
           if constexpr (kSaved == Saved::kNothing) {
             const float d = df(0.f);
             if (slot.accumulate) {
#pragma omp parallel for simd schedule(static) if (m > kParallelGrain)
               for (Index i = 0; i < m; ++i) dx[i] += dy[i] * d;
             } else {
#pragma omp parallel for simd schedule(static) if (m > kParallelGrain)
               for (Index i = 0; i < m; ++i) dx[i] = dy[i] * d;
             }
           } else {
             const float* s = saved.data();
             if (slot.accumulate) {
#pragma omp parallel for simd schedule(static) if (m > kParallelGrain)
               for (Index i = 0; i < m; ++i) dx[i] += dy[i] * df(s[i]);
             } else {
#pragma omp parallel for simd schedule(static) if (m > kParallelGrain)
               for (Index i = 0; i < m; ++i) dx[i] = dy[i] * df(s[i]);
             }
           }
         });
  return out;
}

constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary<BinaryOp::kAdd>(a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary<BinaryOp::kSub>(a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary<BinaryOp::kMul>(a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary<BinaryOp::kDiv>(a, b); }

Tensor add(const Tensor& a, float s) {
  return unary<Saved::kNothing>("add_scalar", a, [s](float x) { return x + s; },
                               [](float) { return 1.f; });
}
Tensor sub(const Tensor& a, float s) { return add(a, -s); }
Tensor rsub(float s, const Tensor& a) {
  return unary<Saved::kNothing>("rsub_scalar", a, [s](float x) { return s - x; },
                               [](float) { return -1.f; });
}
Tensor mul(const Tensor& a, float s) {
  return unary<Saved::kNothing>("mul_scalar", a, [s](float x) { return x * s; },
                               [s](float) { return s; });
}
Tensor div(const Tensor& a, float s) {
  CHECK(s != 0.f, "div: division by the scalar zero");
  return mul(a, 1.f / s);
}

Tensor neg(const Tensor& x) {
  return unary<Saved::kNothing>("neg", x, [](float v) { return -v; }, [](float) { return -1.f; });
}

Tensor exp(const Tensor& x) {
  return unary<Saved::kOutput>("exp", x, [](float v) { return std::exp(v); },
                               [](float y) { return y; });
}

Tensor log(const Tensor& x) {
  return unary<Saved::kInput>("log", x, [](float v) { return std::log(v); },
                              [](float v) { return 1.f / v; });
}

Tensor sqrt(const Tensor& x) {
  return unary<Saved::kOutput>("sqrt", x, [](float v) { return std::sqrt(v); },
                               [](float y) { return 0.5f / y; });
}

Tensor pow(const Tensor& x, float p) {
  return unary<Saved::kInput>("pow", x, [p](float v) { return std::pow(v, p); },
                              [p](float v) { return p * std::pow(v, p - 1.f); });
}

Tensor tanh(const Tensor& x) {
  return unary<Saved::kOutput>("tanh", x, [](float v) { return std::tanh(v); },
                               [](float y) { return 1.f - y * y; });
}

Tensor sigmoid(const Tensor& x) {
  return unary<Saved::kOutput>("sigmoid", x, [](float v) { return 1.f / (1.f + std::exp(-v)); },
                               [](float y) { return y * (1.f - y); });
}

Tensor relu(const Tensor& x) {
  return unary<Saved::kOutput>("relu", x, [](float v) { return v > 0.f ? v : 0.f; },
                               [](float y) { return y > 0.f ? 1.f : 0.f; });
}

Tensor gelu(const Tensor& x) {
  return unary<Saved::kInput>(
      "gelu", x, [](float v) { return 0.5f * v * (1.f + std::erf(v * kInvSqrt2)); },
      [](float v) {
        const float cdf = 0.5f * (1.f + std::erf(v * kInvSqrt2));
        const float pdf = kInvSqrt2Pi * std::exp(-0.5f * v * v);
        return cdf + v * pdf;
      });
}

}  // namespace heed
