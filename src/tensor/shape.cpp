#include "heed/tensor/shape.h"

#include <ostream>
#include <sstream>

#include "heed/util/check.h"

namespace heed {

Shape::Shape(std::initializer_list<Index> dims) : Shape(std::vector<Index>(dims)) {}

Shape::Shape(const std::vector<Index>& dims) {
  CHECK(dims.size() <= static_cast<size_t>(kMaxDims), "shape: at most ", kMaxDims,
        " dimensions are supported (got ", dims.size(), ")");
  ndim_ = static_cast<int>(dims.size());
  for (int i = 0; i < ndim_; ++i) {
    CHECK(dims[i] >= 0, "shape: negative dimension ", dims[i]);
    dims_[i] = dims[i];
  }
}

Index Shape::numel() const {
  Index n = 1;
  for (int i = 0; i < ndim_; ++i) n *= dims_[i];
  return n;
}

int Shape::axis(int dim, const char* op) const {
  int a = dim < 0 ? dim + ndim_ : dim;
  CHECK(a >= 0 && a < ndim_, op, ": dimension ", dim, " is out of range for shape ", to_string());
  return a;
}

Index Shape::outer(int axis) const {
  Index n = 1;
  for (int i = 0; i < axis; ++i) n *= dims_[i];
  return n;
}

Index Shape::inner(int axis) const {
  Index n = 1;
  for (int i = axis + 1; i < ndim_; ++i) n *= dims_[i];
  return n;
}

std::array<Index, Shape::kMaxDims> Shape::strides() const {
  std::array<Index, kMaxDims> s{};
  Index stride = 1;
  for (int i = ndim_ - 1; i >= 0; --i) {
    s[i] = stride;
    stride *= dims_[i];
  }
  return s;
}

Shape Shape::with(int axis, Index size) const {
  Shape s = *this;
  s.dims_[s.wrap(axis)] = size;
  return s;
}

Shape Shape::without(int axis) const {
  axis = wrap(axis);
  Shape s;
  for (int i = 0; i < ndim_; ++i)
    if (i != axis) s.dims_[s.ndim_++] = dims_[i];
  return s;
}

Shape Shape::with_inserted(int axis, Index size) const {
  CHECK(ndim_ < kMaxDims, "shape: cannot add a dimension to ", to_string());
  if (axis < 0) axis += ndim_ + 1;
  CHECK(axis >= 0 && axis <= ndim_, "shape: insert position ", axis, " out of range for ",
        to_string());
  Shape s;
  for (int i = 0; i < axis; ++i) s.dims_[s.ndim_++] = dims_[i];
  s.dims_[s.ndim_++] = size;
  for (int i = axis; i < ndim_; ++i) s.dims_[s.ndim_++] = dims_[i];
  return s;
}

Shape Shape::appended(Index size) const { return with_inserted(ndim_, size); }

bool Shape::operator==(const Shape& other) const {
  if (ndim_ != other.ndim_) return false;
  for (int i = 0; i < ndim_; ++i)
    if (dims_[i] != other.dims_[i]) return false;
  return true;
}

std::string Shape::to_string() const {
  std::ostringstream os;
  os << '[';
  for (int i = 0; i < ndim_; ++i) os << (i ? ", " : "") << dims_[i];
  os << ']';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Shape& shape) { return os << shape.to_string(); }

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int n = std::max(a.ndim(), b.ndim());
  std::vector<Index> dims(n);
  for (int i = 0; i < n; ++i) {
    const int ia = a.ndim() - n + i, ib = b.ndim() - n + i;
    const Index da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    CHECK(da == db || da == 1 || db == 1, op, ": shapes cannot be broadcast (a=", a, ", b=", b,
          ")");
    dims[i] = da == 1 ? db : da;
  }
  return Shape(dims);
}

}  // namespace heed
