// Tensor: a cheap handle to a contiguous, row-major float32 N-d array.
//
// Copying a Tensor copies the handle, not the data: both copies share one storage, one shape and
// one autograd record (like a std::shared_ptr). Use ops' clone() for a deep copy. Views
// (`with_shape`, reshape) share the storage with a different shape; permute/transpose make
// explicit copies, so every tensor is always contiguous and kernels can use flat loops.
//
// Autograd fields live here but are managed by autograd/: a tensor produced by a recorded op has a
// `grad_fn` (the Node that knows its backward); a leaf that `requires_grad` (a parameter) receives
// its gradient in `grad()`.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "heed/tensor/rng.h"
#include "heed/tensor/shape.h"
#include "heed/tensor/storage.h"

namespace heed {

class Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() == false
  // A tensor over `storage` starting at element `offset` (a view; no copy).
  Tensor(std::shared_ptr<Storage> storage, Index offset, const Shape& shape);

  // ---- creation
  static Tensor empty(const Shape& shape);  // uninitialized, from the buffer pool
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor scalar(float value);                                      // shape []
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values);
  static Tensor arange(Index n);                                          // 0, 1, ..., n-1
  static Tensor uniform(const Shape& shape, Rng& rng, float lo = 0.f, float hi = 1.f);
  static Tensor normal(const Shape& shape, Rng& rng, float mean = 0.f, float stddev = 1.f);

  // ---- shape and data
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return shape().ndim(); }
  Index numel() const { return shape().numel(); }
  Index size(int dim) const { return shape()[dim]; }
  float* data();
  const float* data() const;
  float* data_mutable() const;  // for kernels writing into a tensor held by const reference
  float item() const;           // the value of a one-element tensor
  std::vector<float> to_vector() const;
  const std::shared_ptr<Storage>& storage() const;
  Index storage_offset() const;

  // A view with another shape of the same number of elements, sharing storage and carrying no
  // autograd history. For kernels and no-grad code; models use ops::reshape, which records.
  Tensor with_shape(const Shape& shape) const;
  // Same data, no autograd history (a new handle; the data is shared, not copied).
  Tensor detach() const;
  // Deep copy of the data only (no autograd); ops::clone records a node.
  Tensor copy_data() const;
  void fill_(float value);
  void copy_from_(const Tensor& src);  // same numel; no autograd
  // Moves this tensor — every handle that shares it — onto `storage` at element `offset`,
  // keeping its shape and autograd state. Values are not copied (copy them first). Used by
  // optimizers to gather all parameters into one flat buffer (optim/optimizer.h); views taken
  // earlier with with_shape()/detach() keep the old storage.
  void rebind_storage(std::shared_ptr<Storage> storage, Index offset);

  // ---- autograd
  bool requires_grad() const;
  // Marks a leaf as a parameter (gradient wanted). Throws for non-leaves.
  Tensor& set_requires_grad(bool requires_grad = true);
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  // dL/d(this) after backward(); undefined if no gradient reached this leaf.
  Tensor grad() const;
  // Forgets the gradient without freeing its buffer: the next backward overwrites it instead of
  // adding to it (no memset needed). A gradient that no backward writes reads back as zeros.
  void zero_grad();
  // Uses `grad` (e.g. a view into a flat gradient buffer) as this leaf's gradient storage.
  void set_grad(const Tensor& grad);

  // Same underlying tensor (not just equal values).
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  std::string to_string(int max_per_dim = 6) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Shared state behind a Tensor handle. Only autograd/ and the Tensor class touch the autograd
// fields; kernels use data()/shape().
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Index offset = 0;
  Shape shape;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;          // set on outputs of recorded ops
  std::weak_ptr<Node> grad_accumulator;   // leaves: the node that adds into `grad`
  Tensor grad;                            // leaves: accumulated gradient
  bool grad_stale = false;                // `grad` holds old values that count as zero
};

// An integer tensor for token ids, targets and lengths (no autograd, no views).
class IntTensor {
 public:
  IntTensor() = default;
  explicit IntTensor(const Shape& shape, std::int32_t fill = 0);
  static IntTensor from_vector(const Shape& shape, const std::vector<std::int32_t>& values);

  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  Index numel() const { return shape_.numel(); }
  Index size(int dim) const { return shape_[dim]; }
  bool defined() const { return data_ != nullptr; }
  std::int32_t* data() { return data_->data(); }
  const std::int32_t* data() const { return data_->data(); }
  const std::vector<std::int32_t>& values() const { return *data_; }
  // Same data, another shape of equal numel.
  IntTensor with_shape(const Shape& shape) const;
  std::string to_string() const;

 private:
  Shape shape_;
  std::shared_ptr<std::vector<std::int32_t>> data_;
};

std::ostream& operator<<(std::ostream& os, const IntTensor& t);

}  // namespace heed
