#include "heed/autograd/node.h"

#include <cstring>

#include "heed/autograd/grad_mode.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed {
namespace {

void add_into(float* dst, const float* src, Index n) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace

Node::~Node() {
  // A long chain (a 500-step RNN unroll) destroyed recursively through shared_ptr destructors
  // could overflow the stack: take over the inputs of every node that dies with us and release
  // them in a loop instead.
  std::vector<std::shared_ptr<Node>> pending = std::move(inputs_);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (node && node.use_count() == 1) {
      for (auto& in : node->inputs_) pending.push_back(std::move(in));
      node->inputs_.clear();
    }
  }
}

Node::Slot Node::own_grad_slot(bool zero_fill) {
  if (grad_.defined()) return {grad_, true};
  grad_ = zero_fill ? Tensor::zeros(shape_) : Tensor::empty(shape_);
  return {grad_, zero_fill};
}

Node::Slot Node::grad_slot(int i) {
  CHECK(i >= 0 && i < num_inputs() && inputs_[i], name_, ": no gradient wanted for input ", i);
  return inputs_[i]->own_grad_slot(/*zero_fill=*/false);
}

Tensor Node::grad_for(int i) {
  CHECK(i >= 0 && i < num_inputs() && inputs_[i], name_, ": no gradient wanted for input ", i);
  return inputs_[i]->own_grad_slot(/*zero_fill=*/true).tensor;
}

void Node::add_grad(int i, const Tensor& g) {
  Slot slot = grad_slot(i);
  CHECK(slot.tensor.numel() == g.numel(), name_, ": gradient for input ", i, " has shape ",
        g.shape(), " but the input has shape ", slot.tensor.shape());
  if (slot.accumulate)
    add_into(slot.tensor.data(), g.data(), g.numel());
  else
    slot.tensor.copy_from_(g);
}

void Node::pass_grad_through(int i) {
  CHECK(i >= 0 && i < num_inputs() && inputs_[i], name_, ": no gradient wanted for input ", i);
  Node& input = *inputs_[i];
  CHECK(input.shape().numel() == shape_.numel(), name_, ": gradient of shape ", shape_,
        " cannot pass through to input ", i, " of shape ", input.shape());
  if (!input.adopt_grad(grad_.with_shape(input.shape()))) add_grad(i, grad_);
}

bool Node::adopt_grad(const Tensor& g) {
  if (grad_.defined()) return false;
  grad_ = g;
  return true;
}

void Node::seed_grad(const Tensor& g) {
  CHECK(g.shape() == shape_, "backward: seed gradient shape ", g.shape(),
        " differs from the output shape ", shape_);
  Slot slot = own_grad_slot(false);
  if (slot.accumulate)
    add_into(slot.tensor.data(), g.data(), g.numel());
  else
    slot.tensor.copy_from_(g);
}

void Node::run_backward() {
  CHECK(!released_, name_, ": backward through a graph that was already freed (each graph "
        "supports one backward pass)");
  if (backward_ && grad_.defined()) backward_(*this);
}

void Node::release() {
  backward_ = nullptr;
  grad_ = Tensor();
  inputs_.clear();
  released_ = true;
}

AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf)
    : Node("accumulate_grad", leaf->shape), leaf_(leaf) {}

Node::Slot AccumulateGrad::own_grad_slot(bool zero_fill) {
  std::shared_ptr<TensorImpl> leaf = leaf_.lock();
  if (!leaf) {
    // The parameter is gone; its gradient has nowhere to go. Hand out a scratch buffer.
    return Node::own_grad_slot(zero_fill);
  }
  if (!leaf->grad.defined()) {
    leaf->grad = zero_fill ? Tensor::zeros(leaf->shape) : Tensor::empty(leaf->shape);
    leaf->grad_stale = false;
    return {leaf->grad, zero_fill};
  }
  if (leaf->grad_stale) {
    leaf->grad_stale = false;
    if (zero_fill) leaf->grad.fill_(0.f);
    return {leaf->grad, zero_fill};
  }
  return {leaf->grad, true};
}

bool AccumulateGrad::adopt_grad(const Tensor& g) {
  std::shared_ptr<TensorImpl> leaf = leaf_.lock();
  // A stale gradient may be a view into a flat buffer the optimizer owns (set_grad): keep it
  // and copy into it rather than replacing it.
  if (!leaf || leaf->grad.defined()) return false;
  leaf->grad = g;
  leaf->grad_stale = false;
  return true;
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.requires_grad()) return nullptr;
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return impl->grad_fn;
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->grad_accumulator = acc;
  }
  return acc;
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) return true;
  return false;
}

namespace {

void attach(const char* name, Tensor& out, std::vector<std::shared_ptr<Node>> edges,
            Node::BackwardFn backward) {
  auto node = std::make_shared<Node>(name, out.shape());
  node->set_inputs(std::move(edges));
  node->set_backward(std::move(backward));
  TensorImpl* impl = out.impl();
  impl->grad_fn = std::move(node);
  impl->requires_grad = true;
}

}  // namespace

void record(const char* name, Tensor& out, std::initializer_list<const Tensor*> inputs,
            Node::BackwardFn backward) {
  if (!any_requires_grad(inputs)) return;
  std::vector<std::shared_ptr<Node>> edges;
  edges.reserve(inputs.size());
  for (const Tensor* t : inputs) edges.push_back(gradient_edge(*t));
  attach(name, out, std::move(edges), std::move(backward));
}

void record(const char* name, Tensor& out, const std::vector<Tensor>& inputs,
            Node::BackwardFn backward) {
  if (!any_requires_grad(inputs)) return;
  std::vector<std::shared_ptr<Node>> edges;
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back(gradient_edge(t));
  attach(name, out, std::move(edges), std::move(backward));
}

}  // namespace heed
