// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1) and
// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2),
// numerically as torch.optim.Adam / torch.optim.AdamW (torch 1.13, amsgrad=False,
// maximize=False). For step t = 1, 2, ..., every element of every parameter p with gradient g:
//
//   AdamW only:  p ← p · (1 − lr·λ)                  decoupled weight decay
//   Adam only:   g ← g + λ·p                         L2 penalty folded into the gradient
//   m ← β1·m + (1 − β1)·g                            first moment   (state "exp_avg")
//   v ← β2·v + (1 − β2)·g²                           second moment  (state "exp_avg_sq")
//   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
//
// λ = weight_decay. Bias corrections are computed in double, the update in float (as torch).
//
// Lazy rows (AdamOptions::lazy_rows; TensorFlow Addons' LazyAdam, the rule of
// torch.optim.SparseAdam): in the named embedding tables a row with an all-zero gradient is not
// touched — no decay of its moments, no weight decay, no move — so a row is updated only in the
// steps whose batch looked it up. Dense Adam keeps moving a row for many steps after one lookup
// (its old momentum is divided by a √v that decays too): summed over the following steps, about
// ten times that step's own update, towards the labels of the examples the row was seen in. The
// bias correction still uses the global step. Skipping the untouched rows' writes is also faster
// (1.19× on configs/imdb_bigru.json, whose bigram table is most of its parameters).
//
// The update is one fused OpenMP loop over the optimizer's flat parameter, gradient and moment
// buffers (see optim/optimizer.h, which also says how parameters without a gradient are treated:
// as a zero gradient, which still moves the moments and the parameter).
#pragma once

#include <string>
#include <vector>

#include "heed/optim/optimizer.h"

namespace heed {

// Hyperparameters other than lr are double, like torch's Python floats: 1 − β2 is computed from
// β2, and from float 0.999 it would come out 1.3e-5 (relative) away from torch's 0.001.
struct AdamOptions {
  float lr = 1e-3f;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;        // > 0 (torch allows 0, which divides 0 by 0 where v = 0)
  double weight_decay = 0;  // L2: added to the gradient as λ·p
  // 2-D parameters updated only where their gradient row is not all zero (e.g. a model's
  // Module::embedding_table_names()).
  std::vector<std::string> lazy_rows = {};
};

// torch.optim.AdamW's defaults (note weight_decay 0.01, unlike Adam).
struct AdamWOptions {
  float lr = 1e-3f;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p ← p·(1 − lr·λ) before the Adam step
  std::vector<std::string> lazy_rows = {};  // as AdamOptions::lazy_rows
};

class Adam : public Optimizer {
 public:
  explicit Adam(const NamedParameters& parameters, const AdamOptions& options = {});

 protected:
  // Shared by AdamW: `decoupled` selects where weight decay applies.
  Adam(const char* name, const NamedParameters& parameters, const AdamOptions& options,
       bool decoupled);
  void update(std::int64_t step) override;

 private:
  AdamOptions options_;
  bool decoupled_;
};

class AdamW final : public Adam {
 public:
  explicit AdamW(const NamedParameters& parameters, const AdamWOptions& options = {});
};

}  // namespace heed
