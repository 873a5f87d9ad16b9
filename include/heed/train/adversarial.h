// Adversarial training on word embeddings (Miyato, Dai & Goodfellow 2017, "Adversarial Training
// Methods for Semi-Supervised Text Classification", §3): each step trains on the batch and on the
// batch with its embeddings e moved to e + r_adv, the small move that raises the loss most to
// first order:
//
//   g     = ∂L/∂e                                  (one backward through the clean batch)
//   r_adv = ε · ‖e_row‖ · g_row / ‖g_row‖           per row: an example, or a HAN sentence
//   loss  = L(e) + L(e + r_adv)                     r_adv is a constant (no gradient through it)
//
// The paper uses a fixed ε on embeddings it normalizes to zero mean and unit variance; heed's
// embeddings are not normalized, so ε is a fraction of each row's own embedding norm instead (a
// fixed size could be outgrown by the embeddings, which would switch the regularizer off).
//
// Use, around one batch (classification_task.cpp):
//
//   AdversarialEmbeddings adversarial(epsilon);
//   batch.perturb_embeddings = adversarial.probe();   // adds a zero leaf δ to e, keeps e
//   backward(loss(model.forward(batch)));             // δ.grad() = ∂L/∂e
//   batch.perturb_embeddings = adversarial.attack();  // adds r_adv
//   backward(loss(model.forward(batch)));             // parameter gradients add up
#pragma once

#include <functional>

#include "heed/tensor/tensor.h"

namespace heed {

// r_adv from gradient g and embeddings e of the same shape [rows, ...]: row i is
// epsilon · ‖e_i‖ · g_i / ‖g_i‖ (zero where g_i is zero). No autograd.
Tensor adversarial_perturbation(const Tensor& gradient, const Tensor& embeddings, float epsilon);

class AdversarialEmbeddings {
 public:
  using Perturbation = std::function<Tensor(const Tensor&)>;

  explicit AdversarialEmbeddings(float epsilon);

  // For the clean forward: returns e + δ with δ a zero leaf that receives ∂L/∂e.
  Perturbation probe();
  // For the second forward, after the backward of the first: returns e + r_adv. Throws if no
  // probe ran.
  Perturbation attack();

 private:
  float epsilon_;
  Tensor embeddings_;  // e of the probe (detached)
  Tensor delta_;       // the probe's zero leaf
};

}  // namespace heed
