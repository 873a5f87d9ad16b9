// Shape: the dimensions of a contiguous row-major tensor (at most kMaxDims, stored inline so
// that creating, copying and comparing shapes never touches the heap).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <vector>

namespace heed {

using Index = std::int64_t;

class Shape {
 public:
  static constexpr int kMaxDims = 8;

  Shape() = default;
  Shape(std::initializer_list<Index> dims);
  explicit Shape(const std::vector<Index>& dims);

  int ndim() const { return ndim_; }
  Index numel() const;
  bool empty() const { return numel() == 0; }

  // Negative indices count from the end (-1 = last), as in PyTorch.
  Index operator[](int i) const { return dims_[wrap(i)]; }
  Index& operator[](int i) { return dims_[wrap(i)]; }
  Index back() const { return dims_[ndim_ - 1]; }

  // Resolves a possibly negative dimension index, checking range (throws naming `op`).
  int axis(int dim, const char* op) const;

  // Product of dims before / after `axis` (exclusive) — the outer × inner decomposition that
  // every reduction and softmax along an axis uses.
  Index outer(int axis) const;
  Index inner(int axis) const;

  // Row-major strides in elements.
  std::array<Index, kMaxDims> strides() const;

  Shape with(int axis, Index size) const;   // copy with one dim replaced
  Shape without(int axis) const;            // copy with one dim removed
  Shape with_inserted(int axis, Index size) const;
  Shape appended(Index size) const;

  std::vector<Index> to_vector() const { return {dims_.begin(), dims_.begin() + ndim_}; }
  const Index* begin() const { return dims_.data(); }
  const Index* end() const { return dims_.data() + ndim_; }

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }

  std::string to_string() const;  // "[2, 3, 4]"

 private:
  int wrap(int i) const { return i < 0 ? i + ndim_ : i; }

  std::array<Index, kMaxDims> dims_{};
  int ndim_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Shape& shape);

// The NumPy broadcast of two shapes (aligned at the trailing dims); throws naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace heed
