#include "heed/nn/module.h"

#include <gtest/gtest.h>

#include "testing/gradcheck.h"

namespace heed {
namespace {

class Leaf : public Module {
 public:
  explicit Leaf(Index n) {
    weight_ = register_parameter("weight", Tensor::zeros(Shape{n, 2}));
    bias_ = register_parameter("bias", Tensor::zeros(Shape{n}));
  }
  Tensor weight_, bias_;
};

class Tree : public Module {
 public:
  Tree() : a_(3), b_(4) {
    register_module("a", a_);
    register_module("layers", layers_);
    layers_.emplace_back(1);
    layers_.emplace_back(2);
    register_module("b", b_);
    tied_ = register_parameter("tied", a_.weight_);  // the same tensor under a second name
  }
  Leaf a_, b_;
  ModuleList<Leaf> layers_;
  Tensor tied_;
};

TEST(Module, DottedNamesInRegistrationOrderWithTiedListedOnce) {
  Tree t;
  std::vector<std::string> names;
  for (auto& [name, _] : t.named_parameters()) names.push_back(name);
  // A module's own parameters come before its children's, so "tied" (the tree's own name for
  // a.weight) is met first and a.weight is not listed again.
  const std::vector<std::string> want{"tied",           "a.bias",         "layers.0.weight",
                                      "layers.0.bias",  "layers.1.weight", "layers.1.bias",
                                      "b.weight",       "b.bias"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(t.parameter_count(), 3 * 2 + 3 + 1 * 2 + 1 + 2 * 2 + 2 + 4 * 2 + 4);
}

TEST(Module, EmbeddingTablesAreListedByTheirDottedNames) {
  class Table : public Module {
   public:
    Table() { weight_ = register_embedding_table("weight", Tensor::zeros(Shape{5, 2})); }
    Tensor weight_;
  };
  class Model : public Module {
   public:
    Model() : leaf_(3) {
      register_module("leaf", leaf_);
      register_module("words", words_);
      // The table tied to an output layer registered here first: still a table.
      output_ = register_parameter("output", tied_.weight_);
      register_module("tied", tied_);
    }
    Leaf leaf_;
    Table words_, tied_;
    Tensor output_;
  };
  Model m;
  EXPECT_EQ(m.embedding_table_names(), (std::vector<std::string>{"output", "words.weight"}));
  EXPECT_EQ(Leaf(2).embedding_table_names(), std::vector<std::string>{});
  struct Flat : Module {
    Flat() { register_embedding_table("w", Tensor::zeros(Shape{4})); }
  };
  EXPECT_THROW_MSG(Flat(), "register_embedding_table: 'w' must be a [V, D] table");
}

TEST(Module, TrainEvalPropagates) {
  Tree t;
  t.eval();
  EXPECT_FALSE(t.is_training());
  EXPECT_FALSE(t.layers_[1].is_training());
  t.train();
  EXPECT_TRUE(t.b_.is_training());
}

TEST(Module, ParametersRequireGradAndDuplicatesAreErrors) {
  Leaf l(2);
  EXPECT_TRUE(l.weight_.requires_grad());
  struct Bad : Module {
    Bad() {
      register_parameter("w", Tensor::zeros(Shape{1}));
      register_parameter("w", Tensor::zeros(Shape{1}));
    }
  };
  EXPECT_THROW_MSG(Bad(), "'w' registered twice");
}

}  // namespace
}  // namespace heed
