// Node: one recorded op in the autograd graph.
//
// A node holds the op's name, one edge per input (the node that will receive that input's
// gradient, or null if the input needs none), the backward function, and the gradient of its
// output as it accumulates. The backward function is written beside the op's forward (see
// ops/*.cpp) and captures only what it needs (an input, the output, a mask) — saved tensors are
// captured with detach() so a node never keeps a graph alive through them.
//
// Gradient buffers come from the buffer pool. A backward kernel asks for an input's gradient
// buffer with grad_for(i) (zero-filled the first time, so it can always +=), or, when it writes
// every element anyway, with grad_slot(i), which skips the zero fill and says whether to add or
// overwrite. Leaf gradients go straight into the leaf's `grad` tensor: no copy at the end.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "heed/tensor/tensor.h"

namespace heed {

class Node {
 public:
  using BackwardFn = std::function<void(Node&)>;

  Node(const char* name, const Shape& output_shape) : name_(name), shape_(output_shape) {}
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const char* name() const { return name_; }
  const Shape& shape() const { return shape_; }  // shape of the op's output (and its gradient)

  // ---- used by backward functions
  // dL/d(output) of this op.
  const Tensor& grad() const { return grad_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  bool needs_grad(int i) const { return inputs_[i] != nullptr; }
  // Input i's gradient buffer, zero-filled on first use: add into it.
  Tensor grad_for(int i);
  // Input i's gradient buffer without the zero fill. If `accumulate` comes back false the buffer
  // holds garbage and the kernel must write every element; otherwise it must add.
  struct Slot {
    Tensor tensor;
    bool accumulate;
  };
  Slot grad_slot(int i);
  // Adds a whole tensor into input i's gradient (copies it if nothing is there yet).
  void add_grad(int i, const Tensor& g);
  // For ops whose backward is the identity up to shape (reshape, squeeze, clone): hands this
  // node's output gradient to input i, viewed with the input's shape. The input adopts the
  // buffer when it has no gradient yet (no copy: this node is released right after its
  // backward, so the buffer has one owner again), otherwise the gradient is added.
  void pass_grad_through(int i);

  // ---- used by the recorder and the engine
  void set_inputs(std::vector<std::shared_ptr<Node>> inputs) { inputs_ = std::move(inputs); }
  void set_backward(BackwardFn fn) { backward_ = std::move(fn); }
  const std::vector<std::shared_ptr<Node>>& inputs() const { return inputs_; }
  bool has_grad() const { return grad_.defined(); }
  void seed_grad(const Tensor& g);
  virtual void run_backward();
  // Drops the backward function, saved tensors, edges and gradient (after backward).
  virtual void release();
  bool released() const { return released_; }

  // Scratch for the engine's topological sort.
  int topo_mark = 0;

 protected:
  // The buffer that receives this node's output gradient; `accumulate` as in grad_slot().
  virtual Slot own_grad_slot(bool zero_fill);
  // Takes `g` as this node's output gradient if it has none yet; false if it already has one.
  virtual bool adopt_grad(const Tensor& g);

  const char* name_;
  Shape shape_;
  std::vector<std::shared_ptr<Node>> inputs_;
  BackwardFn backward_;
  Tensor grad_;
  bool released_ = false;
};

// The node at a leaf that requires grad: its "output gradient" is the leaf's grad tensor, so
// gradients from every use of a parameter (tied embeddings, shared layers) add up there.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf);
  void run_backward() override {}
  // A leaf's accumulator outlives one backward pass (a parameter is used graph after graph).
  void release() override {}

 protected:
  Slot own_grad_slot(bool zero_fill) override;
  bool adopt_grad(const Tensor& g) override;

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// The edge through which a gradient reaches `t`: its grad_fn, its leaf accumulator, or null.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

// True when an op with these inputs must record a node (grad mode on and some input needs grad).
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Records op `name` producing `out` from `inputs` with `backward`, if any input requires grad and
// grad mode is on; otherwise does nothing. Call after the forward kernel has filled `out`.
void record(const char* name, Tensor& out, std::initializer_list<const Tensor*> inputs,
            Node::BackwardFn backward);
void record(const char* name, Tensor& out, const std::vector<Tensor>& inputs,
            Node::BackwardFn backward);

}  // namespace heed
