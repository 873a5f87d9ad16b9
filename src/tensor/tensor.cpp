#include "heed/tensor/tensor.h"

#include <algorithm>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed {
namespace {

void parallel_fill(float* p, Index n, float v) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) p[i] = v;
}

void parallel_copy(float* dst, const float* src, Index n) {
  if (n <= kParallelGrain) {
    std::memcpy(dst, src, n * sizeof(float));
    return;
  }
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < n; ++i) dst[i] = src[i];
}

}  // namespace

Tensor::Tensor(std::shared_ptr<Storage> storage, Index offset, const Shape& shape)
    : impl_(std::make_shared<TensorImpl>()) {
  CHECK(storage != nullptr, "tensor: null storage");
  CHECK(offset >= 0 && offset + shape.numel() <= static_cast<Index>(storage->numel()),
        "tensor: view [", offset, ", ", offset + shape.numel(), ") exceeds storage of ",
        storage->numel(), " elements");
  impl_->storage = std::move(storage);
  impl_->offset = offset;
  impl_->shape = shape;
}

Tensor Tensor::empty(const Shape& shape) {
  return Tensor(std::make_shared<Storage>(static_cast<std::size_t>(shape.numel())), 0, shape);
}

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.f); }
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1.f); }

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(float value) { return full(Shape{}, value); }

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values) {
  CHECK(static_cast<Index>(values.size()) == shape.numel(), "from_vector: shape ", shape,
        " needs ", shape.numel(), " values (got ", values.size(), ")");
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::arange(Index n) {
  Tensor t = empty(Shape{n});
  for (Index i = 0; i < n; ++i) t.data()[i] = static_cast<float>(i);
  return t;
}

Tensor Tensor::uniform(const Shape& shape, Rng& rng, float lo, float hi) {
  Tensor t = empty(shape);
  rng.fill_uniform(t.data(), t.numel(), lo, hi);
  return t;
}

Tensor Tensor::normal(const Shape& shape, Rng& rng, float mean, float stddev) {
  Tensor t = empty(shape);
  rng.fill_normal(t.data(), t.numel(), mean, stddev);
  return t;
}

const Shape& Tensor::shape() const {
  CHECK(defined(), "tensor: use of an undefined tensor");
  return impl_->shape;
}

float* Tensor::data() { return data_mutable(); }
const float* Tensor::data() const { return data_mutable(); }

float* Tensor::data_mutable() const {
  CHECK(defined(), "tensor: use of an undefined tensor");
  return impl_->storage->data() + impl_->offset;
}

float Tensor::item() const {
  CHECK(numel() == 1, "item: tensor of shape ", shape(), " has ", numel(),
        " elements, not one");
  return data()[0];
}

std::vector<float> Tensor::to_vector() const { return {data(), data() + numel()}; }

const std::shared_ptr<Storage>& Tensor::storage() const {
  CHECK(defined(), "tensor: use of an undefined tensor");
  return impl_->storage;
}

Index Tensor::storage_offset() const { return defined() ? impl_->offset : 0; }

Tensor Tensor::with_shape(const Shape& shape) const {
  CHECK(shape.numel() == numel(), "with_shape: cannot view ", this->shape(), " (", numel(),
        " elements) as ", shape, " (", shape.numel(), " elements)");
  return Tensor(impl_->storage, impl_->offset, shape);
}

Tensor Tensor::detach() const { return with_shape(shape()); }

Tensor Tensor::copy_data() const {
  Tensor t = empty(shape());
  parallel_copy(t.data(), data(), numel());
  return t;
}

void Tensor::fill_(float value) { parallel_fill(data(), numel(), value); }

void Tensor::copy_from_(const Tensor& src) {
  CHECK(src.numel() == numel(), "copy_from_: source ", src.shape(), " and destination ",
        shape(), " differ in size");
  parallel_copy(data(), src.data(), numel());
}

void Tensor::rebind_storage(std::shared_ptr<Storage> storage, Index offset) {
  CHECK(defined(), "rebind_storage: undefined tensor");
  CHECK(storage != nullptr, "rebind_storage: null storage");
  CHECK(offset >= 0 && offset + numel() <= static_cast<Index>(storage->numel()),
        "rebind_storage: view [", offset, ", ", offset + numel(), ") of a ", shape(),
        " tensor exceeds storage of ", storage->numel(), " elements");
  impl_->storage = std::move(storage);
  impl_->offset = offset;
}

bool Tensor::requires_grad() const { return defined() && impl_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  CHECK(defined(), "set_requires_grad: undefined tensor");
  CHECK(is_leaf(), "set_requires_grad: only leaf tensors can be marked (this one is the output "
        "of an op; use detach() first)");
  impl_->requires_grad = requires_grad;
  return *this;
}

bool Tensor::is_leaf() const { return defined() && impl_->grad_fn == nullptr; }

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> kNone;
  return defined() ? impl_->grad_fn : kNone;
}

Tensor Tensor::grad() const {
  if (!defined() || !impl_->grad.defined()) return Tensor();
  if (impl_->grad_stale) {
    // zero_grad() kept the buffer but no backward has written it since: it reads as zero.
    impl_->grad.fill_(0.f);
    impl_->grad_stale = false;
  }
  return impl_->grad;
}

void Tensor::zero_grad() {
  if (defined() && impl_->grad.defined()) impl_->grad_stale = true;
}

void Tensor::set_grad(const Tensor& grad) {
  CHECK(defined(), "set_grad: undefined tensor");
  CHECK(!grad.defined() || grad.shape() == shape(), "set_grad: gradient shape ",
        grad.defined() ? grad.shape().to_string() : "?", " differs from tensor shape ", shape());
  impl_->grad = grad;
  impl_->grad_stale = false;
}

std::string Tensor::to_string(int max_per_dim) const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor" << shape();
  if (requires_grad()) os << " requires_grad";
  if (grad_fn()) os << " grad_fn";
  os << "\n";
  const Shape& s = shape();
  const float* p = data();
  os << std::setprecision(5);
  if (s.ndim() == 0) {
    os << p[0];
    return os.str();
  }
  // Print as nested rows of the last dimension, eliding the middle of long dims.
  const Index cols = s.back();
  const Index rows = numel() / std::max<Index>(cols, 1);
  auto print_row = [&](Index r) {
    os << "  [";
    for (Index c = 0; c < cols; ++c) {
      if (cols > 2 * max_per_dim && c == max_per_dim) {
        os << ", ...";
        c = cols - max_per_dim - 1;
        continue;
      }
      os << (c ? ", " : "") << p[r * cols + c];
    }
    os << "]\n";
  };
  for (Index r = 0; r < rows; ++r) {
    if (rows > 2 * max_per_dim && r == max_per_dim) {
      os << "  ...\n";
      r = rows - max_per_dim - 1;
      continue;
    }
    print_row(r);
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

IntTensor::IntTensor(const Shape& shape, std::int32_t fill)
    : shape_(shape),
      data_(std::make_shared<std::vector<std::int32_t>>(static_cast<size_t>(shape.numel()), fill)) {}

IntTensor IntTensor::from_vector(const Shape& shape, const std::vector<std::int32_t>& values) {
  CHECK(static_cast<Index>(values.size()) == shape.numel(), "IntTensor::from_vector: shape ",
        shape, " needs ", shape.numel(), " values (got ", values.size(), ")");
  IntTensor t;
  t.shape_ = shape;
  t.data_ = std::make_shared<std::vector<std::int32_t>>(values);
  return t;
}

IntTensor IntTensor::with_shape(const Shape& shape) const {
  CHECK(shape.numel() == numel(), "IntTensor::with_shape: cannot view ", shape_, " as ", shape);
  IntTensor t = *this;
  t.shape_ = shape;
  return t;
}

std::string IntTensor::to_string() const {
  std::ostringstream os;
  os << "IntTensor" << shape_ << " [";
  const Index n = numel();
  for (Index i = 0; i < n; ++i) {
    if (n > 40 && i == 20) {
      os << " ...";
      i = n - 10;
    }
    os << (i ? " " : "") << (*data_)[i];
  }
  os << "]";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const IntTensor& t) { return os << t.to_string(); }

}  // namespace heed
