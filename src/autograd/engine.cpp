#include "heed/autograd/engine.h"

#include <vector>

#include "heed/autograd/node.h"
#include "heed/util/check.h"

namespace heed {
namespace {

// Reverse topological order of the graph below `root`: every node comes after all nodes that
// consume its output. Iterative post-order DFS; `topo_mark` 1 = on the stack, 2 = done.
std::vector<Node*> reverse_topological_order(Node* root) {
  std::vector<Node*> post_order;
  std::vector<std::pair<Node*, size_t>> stack;  // node, next input to visit
  stack.emplace_back(root, 0);
  root->topo_mark = 1;
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs().size()) {
      Node* child = node->inputs()[next++].get();
      if (child && child->topo_mark == 0) {
        child->topo_mark = 1;
        stack.emplace_back(child, 0);
      }
      continue;
    }
    node->topo_mark = 2;
    post_order.push_back(node);
    stack.pop_back();
  }
  return {post_order.rbegin(), post_order.rend()};
}

}  // namespace

void backward(const Tensor& root, const Tensor& root_grad) {
  CHECK(root.defined(), "backward: undefined tensor");
  CHECK(root.requires_grad(), "backward: the tensor does not require grad (no parameter or "
        "input with requires_grad contributed to it, or it was computed under NoGradGuard)");
  std::shared_ptr<Node> root_node = gradient_edge(root);
  CHECK(!root_node->released(), "backward: the graph of this tensor was already freed by an "
        "earlier backward()");
  if (root_grad.defined()) {
    root_node->seed_grad(root_grad);
  } else {
    CHECK(root.numel() == 1, "backward: the root has shape ", root.shape(),
          "; pass root_grad for a non-scalar root");
    root_node->seed_grad(Tensor::ones(root.shape()));
  }

  std::vector<Node*> order = reverse_topological_order(root_node.get());
  // Keep every node alive until the pass ends: releasing a node drops its edges, which may hold
  // the last reference to nodes still waiting in `order`.
  std::vector<std::shared_ptr<Node>> keep_alive;
  keep_alive.reserve(order.size());
  for (Node* node : order) {
    for (const auto& in : node->inputs())
      if (in) keep_alive.push_back(in);
  }
  for (Node* node : order) {
    node->run_backward();
    node->release();  // frees saved activations as soon as they are no longer needed
    node->topo_mark = 0;
  }
}

}  // namespace heed
