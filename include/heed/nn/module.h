// Module: the base of every layer and model.
//
// A module owns typed parameter members (`weight_`, `bias_`) and typed sub-module members
// (`attention_`, `layers_`), and registers each of them by name in its constructor. From the
// registrations it can list every parameter under a dotted name in a fixed order
// ("encoder.layers.0.self_attn.q_proj.weight") — the key used by optimizers and checkpoints —
// and switch the whole tree between training and evaluation mode. Forward functions use the
// typed members directly; nothing is looked up by name or index at run time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "heed/tensor/tensor.h"

namespace heed {

using NamedParameters = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its sub-modules, in registration order, with dotted
  // names. A parameter registered twice (tied weights) is listed once, under its first name.
  NamedParameters named_parameters() const;
  std::vector<Tensor> parameters() const;
  Index parameter_count() const;
  // The names, as named_parameters() lists them and in its order, of the parameters registered
  // with register_embedding_table (under any of their names, for tied weights).
  std::vector<std::string> embedding_table_names() const;

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad();

  // The sub-modules registered directly under this one.
  const std::vector<std::pair<std::string, Module*>>& children() const { return children_; }

 protected:
  // Registers `tensor` as a parameter (marks it requires_grad) and returns it, so a constructor
  // can write `weight_ = register_parameter("weight", init(...))`.
  Tensor register_parameter(const std::string& name, Tensor tensor);
  // Registers a lookup table [V, D] as a parameter: a step's gradient reaches only the rows the
  // batch looked up, so an optimizer may leave the other rows alone (AdamOptions::lazy_rows).
  Tensor register_embedding_table(const std::string& name, Tensor tensor);
  // Registers a sub-module (owned elsewhere, typically a member) under `name`.
  template <typename M>
  M& register_module(const std::string& name, M& module) {
    add_child(name, &module);
    return module;
  }
  // Called on mode changes, for modules that cache mode-dependent state.
  virtual void on_train(bool /*on*/) {}

 private:
  void add_child(const std::string& name, Module* module);
  void collect(const std::string& prefix, NamedParameters& out,
               std::vector<const TensorImpl*>& seen) const;
  void collect_embedding_tables(std::vector<const TensorImpl*>& out) const;

  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<bool> is_embedding_table_;  // parallel to parameters_
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = true;
};

// A list of sub-modules of one type, named "0", "1", ... (like torch.nn.ModuleList).
template <typename M>
class ModuleList : public Module {
 public:
  M& push_back(std::unique_ptr<M> module) {
    items_.push_back(std::move(module));
    return register_module(std::to_string(items_.size() - 1), *items_.back());
  }
  template <typename... Args>
  M& emplace_back(Args&&... args) {
    return push_back(std::make_unique<M>(std::forward<Args>(args)...));
  }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  M& operator[](size_t i) { return *items_[i]; }
  const M& operator[](size_t i) const { return *items_[i]; }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }

 private:
  std::vector<std::unique_ptr<M>> items_;
};

}  // namespace heed
