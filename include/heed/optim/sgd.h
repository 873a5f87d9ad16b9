// Stochastic gradient descent with optional momentum (Polyak's heavy ball; Nesterov's variant as
// in Sutskever et al., "On the importance of initialization and momentum in deep learning", ICML
// 2013) and L2 weight decay, numerically as torch.optim.SGD (torch 1.13). For step t = 1, 2, ...:
//
//   d ← g + λ·p                                   λ = weight_decay
//   if μ ≠ 0:  b ← d                     (t = 1)  μ = momentum, state "momentum_buffer"
//              b ← μ·b + (1 − dampening)·d  (t > 1)
//              d ← d + μ·b  (nesterov)  or  d ← b
//   p ← p − lr·d
//
// One fused OpenMP loop over the optimizer's flat buffers (optim/optimizer.h; a parameter
// without a gradient is updated with a zero gradient, like torch after zero_grad()).
#pragma once

#include "heed/optim/optimizer.h"

namespace heed {

// Hyperparameters other than lr are double, like torch's (and AdamOptions').
struct SgdOptions {
  float lr = 1e-2f;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0 (as torch)
};

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const NamedParameters& parameters, const SgdOptions& options = {});

 protected:
  void update(std::int64_t step) override;

 private:
  SgdOptions options_;
};

}  // namespace heed
