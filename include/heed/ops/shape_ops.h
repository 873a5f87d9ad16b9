// Shape ops: views, copies and re-arrangements. All record their backward.
#pragma once

#include <vector>

#include "heed/tensor/tensor.h"

namespace heed {

// A view with a new shape of the same numel (shares storage). One dim may be -1 (inferred).
Tensor reshape(const Tensor& x, const std::vector<Index>& shape);
Tensor reshape(const Tensor& x, const Shape& shape);
// Explicit contiguous copy of x with its dims reordered: out.shape[i] = x.shape[perm[i]].
Tensor permute(const Tensor& x, const std::vector<int>& perm);
// Swaps two dims (a permute).
Tensor transpose(const Tensor& x, int dim0, int dim1);
// Deep copy that records a node (the gradient passes through).
Tensor clone(const Tensor& x);

// Joins tensors along `dim`; all other dims must agree.
Tensor concat(const std::vector<Tensor>& xs, int dim);
// Splits along `dim` into pieces of the given sizes (summing to x.shape[dim]).
std::vector<Tensor> split(const Tensor& x, const std::vector<Index>& sizes, int dim);
// Elements [start, end) along `dim` (a copy, or a view when dim is the first non-unit dim).
Tensor slice(const Tensor& x, int dim, Index start, Index end);
// Rows `index` along `dim`: out.shape[dim] = index.numel(); repeated indices accumulate grads.
Tensor index_select(const Tensor& x, int dim, const IntTensor& index);
// Inserts / removes a size-1 dim (views).
Tensor unsqueeze(const Tensor& x, int dim);
Tensor squeeze(const Tensor& x, int dim);
// Repeats x along broadcast dims to `shape` (a copy; gradient sums back).
Tensor expand(const Tensor& x, const Shape& shape);

// Where mask != 0, the value is replaced by `value` (no gradient there); mask broadcasts to
// x's shape and never receives a gradient. Masks in heed mark the positions to hide with 1,
// as PyTorch's boolean masks mark them with True.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

}  // namespace heed
