#include "heed/optim/optimizer.h"

#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "heed/util/check.h"
#include "optim/grad_norm.h"

namespace heed {
namespace {

// Every slice starts on a 64-byte boundary (the pool's buffers are 64-byte aligned).
constexpr Index kSliceAlignment = 64 / sizeof(float);

Index round_up(Index n, Index multiple) { return (n + multiple - 1) / multiple * multiple; }

}  // namespace

Optimizer::Optimizer(const char* name, const NamedParameters& parameters, float lr)
    : name_(name), parameters_(parameters) {
  CHECK(!parameters_.empty(), name_, ": empty parameter list");
  set_lr(lr);

  // Lay out the slices, checking the list on the way.
  std::unordered_set<std::string> by_name;
  std::unordered_map<const TensorImpl*, size_t> by_tensor;
  Index total = 0;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const auto& [param_name, param] = parameters_[i];
    CHECK(param.defined(), name_, ": parameter '", param_name, "' is undefined");
    CHECK(param.requires_grad() && param.is_leaf(), name_, ": parameter '", param_name,
          "' is not a leaf that requires grad");
    CHECK(by_name.insert(param_name).second, name_, ": parameter name '", param_name,
          "' appears twice");
    auto [same, fresh_tensor] = by_tensor.emplace(param.impl(), i);
    CHECK(fresh_tensor, name_, ": parameters '", parameters_[same->second].first, "' and '",
          param_name, "' are the same tensor (list tied weights once)");
    offsets_.push_back(total);
    total = round_up(total + param.numel(), kSliceAlignment);
  }

  // Zero-filled so that the padding between slices is zero (and stays zero under every update).
  params_flat_ = Tensor::zeros(Shape{total});
  grads_flat_ = Tensor::zeros(Shape{total});
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& param = parameters_[i].second;
    Tensor param_slice = slice(params_flat_, i);
    param_slice.copy_from_(param);
    // `param` shares its TensorImpl with the model's handle: the model now sees the slice.
    param.rebind_storage(params_flat_.storage(), offsets_[i]);

    Tensor grad_slice = slice(grads_flat_, i);
    Tensor old_grad = param.grad();  // a gradient from before the optimizer existed is kept
    if (old_grad.defined()) grad_slice.copy_from_(old_grad);
    param.set_grad(grad_slice);
  }
  ranges_ = {FlatRange{0, total, 0}};
}

void Optimizer::set_lazy_rows(const std::vector<std::string>& names) {
  std::vector<bool> lazy(parameters_.size(), false);
  for (const std::string& lazy_name : names) {
    size_t i = 0;
    while (i < parameters_.size() && parameters_[i].first != lazy_name) ++i;
    CHECK(i < parameters_.size(), name_, ": lazy_rows: no parameter named '", lazy_name, "'");
    CHECK(parameters_[i].second.ndim() == 2, name_, ": lazy_rows: parameter '", lazy_name,
          "' has shape ", parameters_[i].second.shape(), "; only 2-D tables have rows");
    lazy[i] = true;
  }
  // A dense range runs to the next parameter's offset (padding included: it stays zero); a lazy
  // range covers exactly the parameter's rows.
  ranges_.clear();
  const Index total = flat_size();
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const Tensor& param = parameters_[i].second;
    const Index begin = offsets_[i];
    const Index next = i + 1 < parameters_.size() ? offsets_[i + 1] : total;
    if (lazy[i]) {
      ranges_.push_back({begin, begin + param.numel(), param.size(1)});
      if (begin + param.numel() < next) ranges_.push_back({begin + param.numel(), next, 0});
    } else if (!ranges_.empty() && ranges_.back().row_size == 0 && ranges_.back().end == begin) {
      ranges_.back().end = next;
    } else {
      ranges_.push_back({begin, next, 0});
    }
  }
}

Tensor Optimizer::slice(const Tensor& flat, size_t parameter) const {
  return Tensor(flat.storage(), offsets_[parameter], parameters_[parameter].second.shape());
}

void Optimizer::set_lr(float lr) {
  CHECK(std::isfinite(lr) && lr >= 0.f, name_, ": lr must be finite and >= 0 (got ", lr, ")");
  lr_ = lr;
}

void Optimizer::add_state_buffer(const std::string& buffer_name) {
  state_buffers_.emplace_back(buffer_name, Tensor::zeros(Shape{flat_size()}));
}

void Optimizer::zero_grad() {
  for (auto& [_, param] : parameters_) param.zero_grad();
}

void Optimizer::prepare_grads() {
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const auto& [param_name, param] = parameters_[i];
    CHECK(param.storage() == params_flat_.storage() && param.storage_offset() == offsets_[i],
          name_, ": parameter '", param_name, "' no longer lives in the optimizer's flat buffer "
          "(rebind_storage after the optimizer was built?)");
    // grad() zero-fills a stale gradient (one no backward wrote since zero_grad).
    Tensor grad = param.grad();
    CHECK(grad.defined() && grad.storage() == grads_flat_.storage() &&
              grad.storage_offset() == offsets_[i],
          name_, ": the gradient of parameter '", param_name, "' was replaced (set_grad after "
          "the optimizer was built?); it must stay the optimizer's flat-buffer view");
  }
}

void Optimizer::step() {
  prepare_grads();
  ++step_;
  update(step_);
}

float Optimizer::clip_grad_norm(float max_norm) {
  CHECK(std::isfinite(max_norm) && max_norm > 0.f, name_,
        ": clip_grad_norm: max_norm must be finite and > 0 (got ", max_norm, ")");
  prepare_grads();
  // The padding between slices is zero, so one pass over the whole buffer is the global norm.
  const float norm = static_cast<float>(
      std::sqrt(optim_detail::sum_of_squares(grads_flat_.data(), grads_flat_.numel())));
  const float coefficient = optim_detail::clip_coefficient(norm, max_norm);
  if (coefficient != 1.f)  // below 1, or NaN (torch scales by a NaN coefficient too)
    optim_detail::scale(grads_flat_.data(), grads_flat_.numel(), coefficient);
  return norm;
}

OptimizerState Optimizer::state() const {
  OptimizerState out;
  out.step = step_;
  for (size_t i = 0; i < parameters_.size(); ++i)
    for (const auto& [buffer_name, flat] : state_buffers_)
      out.tensors.emplace_back(parameters_[i].first + "." + buffer_name,
                               slice(flat, i).copy_data());
  return out;
}

void Optimizer::load_state(const OptimizerState& state) {
  CHECK(state.step >= 0, name_, ": load_state: step must be >= 0 (got ", state.step, ")");
  // Expected entry name -> (parameter, buffer).
  std::unordered_map<std::string, std::pair<size_t, size_t>> expected;
  for (size_t i = 0; i < parameters_.size(); ++i)
    for (size_t b = 0; b < state_buffers_.size(); ++b)
      expected.emplace(parameters_[i].first + "." + state_buffers_[b].first, std::pair{i, b});

  // Check everything first, so that a bad state leaves the optimizer untouched.
  std::vector<const Tensor*> source(parameters_.size() * state_buffers_.size(), nullptr);
  for (const auto& [entry, values] : state.tensors) {
    auto it = expected.find(entry);
    CHECK(it != expected.end(), name_, ": load_state: unexpected entry '", entry,
          "' (no such parameter, or a buffer this optimizer does not have)");
    const auto [i, b] = it->second;
    const auto& [param_name, param] = parameters_[i];
    CHECK(values.defined() && values.shape() == param.shape(), name_, ": load_state: '", entry,
          "' has shape ", values.defined() ? values.shape().to_string() : "undefined",
          " but parameter '", param_name, "' has shape ", param.shape());
    const Tensor*& slot = source[i * state_buffers_.size() + b];
    CHECK(slot == nullptr, name_, ": load_state: entry '", entry, "' appears twice");
    slot = &values;
  }
  for (size_t i = 0; i < parameters_.size(); ++i)
    for (size_t b = 0; b < state_buffers_.size(); ++b)
      CHECK(source[i * state_buffers_.size() + b] != nullptr, name_, ": load_state: missing '",
            parameters_[i].first, ".", state_buffers_[b].first, "' for parameter '",
            parameters_[i].first, "'");

  for (size_t i = 0; i < parameters_.size(); ++i)
    for (size_t b = 0; b < state_buffers_.size(); ++b)
      slice(state_buffers_[b].second, i).copy_from_(*source[i * state_buffers_.size() + b]);
  step_ = state.step;
}

}  // namespace heed
