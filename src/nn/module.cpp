#include "heed/nn/module.h"

#include <algorithm>

#include "heed/util/check.h"

namespace heed {

Tensor Module::register_parameter(const std::string& name, Tensor tensor) {
  CHECK(tensor.defined(), "register_parameter: parameter '", name, "' is undefined");
  CHECK(name.find('.') == std::string::npos, "register_parameter: name '", name,
        "' must not contain '.'");
  for (const auto& [existing, _] : parameters_)
    CHECK(existing != name, "register_parameter: '", name, "' registered twice");
  tensor.set_requires_grad(true);
  parameters_.emplace_back(name, tensor);
  is_embedding_table_.push_back(false);
  return tensor;
}

Tensor Module::register_embedding_table(const std::string& name, Tensor tensor) {
  CHECK(tensor.defined() && tensor.ndim() == 2, "register_embedding_table: '", name,
        "' must be a [V, D] table");
  register_parameter(name, tensor);
  is_embedding_table_.back() = true;
  return tensor;
}

void Module::add_child(const std::string& name, Module* module) {
  CHECK(module != nullptr && module != this, "register_module: bad module '", name, "'");
  for (const auto& [existing, _] : children_)
    CHECK(existing != name, "register_module: '", name, "' registered twice");
  children_.emplace_back(name, module);
}

void Module::collect(const std::string& prefix, NamedParameters& out,
                     std::vector<const TensorImpl*>& seen) const {
  for (const auto& [name, t] : parameters_) {
    if (std::find(seen.begin(), seen.end(), t.impl()) != seen.end()) continue;
    seen.push_back(t.impl());
    out.emplace_back(prefix + name, t);
  }
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out, seen);
}

void Module::collect_embedding_tables(std::vector<const TensorImpl*>& out) const {
  for (size_t i = 0; i < parameters_.size(); ++i)
    if (is_embedding_table_[i]) out.push_back(parameters_[i].second.impl());
  for (const auto& [_, child] : children_) child->collect_embedding_tables(out);
}

NamedParameters Module::named_parameters() const {
  NamedParameters out;
  std::vector<const TensorImpl*> seen;
  collect("", out, seen);
  return out;
}

std::vector<std::string> Module::embedding_table_names() const {
  std::vector<const TensorImpl*> tables;
  collect_embedding_tables(tables);
  std::vector<std::string> names;
  for (const auto& [name, t] : named_parameters())
    if (std::find(tables.begin(), tables.end(), t.impl()) != tables.end()) names.push_back(name);
  return names;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [_, t] : named_parameters()) out.push_back(t);
  return out;
}

Index Module::parameter_count() const {
  Index n = 0;
  for (auto& [_, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [_, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [_, t] : named_parameters()) t.zero_grad();
}

}  // namespace heed
