// Elementwise ops: binary arithmetic with NumPy broadcasting, scalar variants, and unary
// functions. Every op records its backward (see src/ops/elementwise.cpp for the formulas).
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// ---- binary, broadcasting (shapes aligned at the trailing dims)
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);

// ---- with a scalar
Tensor add(const Tensor& a, float s);
Tensor sub(const Tensor& a, float s);
Tensor rsub(float s, const Tensor& a);  // s - a
Tensor mul(const Tensor& a, float s);
Tensor div(const Tensor& a, float s);

// ---- unary
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, float exponent);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
// GELU, exact form x·Φ(x) with the normal CDF via erf (PyTorch's default, approximate='none').
Tensor gelu(const Tensor& x);

// ---- operators (same ops, for readable model code)
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, float s) { return add(a, s); }
inline Tensor operator-(const Tensor& a, float s) { return sub(a, s); }
inline Tensor operator*(const Tensor& a, float s) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, float s) { return div(a, s); }
inline Tensor operator+(float s, const Tensor& a) { return add(a, s); }
inline Tensor operator-(float s, const Tensor& a) { return rsub(s, a); }
inline Tensor operator*(float s, const Tensor& a) { return mul(a, s); }
inline Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace heed
