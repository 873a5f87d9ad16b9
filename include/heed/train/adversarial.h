// Adversarial training on word embeddings (Miyato, Dai & Goodfellow 2017, "Adversarial Training
// Methods for Semi-Supervised Text Classification", §3): each step trains on the batch and on the
// batch with its embeddings e moved to e + r_adv, the small move that raises the loss most to
// first order:
//
//   g     = ∂L/∂e                                (one backward through the clean batch)
//   r_adv = ε · ē_row · g_row / ‖g_row‖            per row: an example, or a HAN sentence
//   loss  = L(e) + L(e + r_adv)                   r_adv is a constant (no gradient through it)
//
// ē_row is the root mean square of the row's token embedding norms, √(Σ_t ‖e_t‖² / n), over its
// n real tokens (padding embeddings are zero vectors and are not counted). The paper uses a fixed
// ε = 5 on embeddings it normalizes to unit variance per feature, i.e. about 0.3 of a token
// embedding's norm for 256 features, whatever the text's length; heed's embeddings are not
// normalized, so ε is measured in the row's own token norm instead (a fixed size could be
// outgrown by the embeddings, which would switch the regularizer off). ε = 0.3 is the paper's
// setting.
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

// r_adv from gradient g and embeddings e of the same shape [rows, ..., E]: row i is
// epsilon · ē_i · g_i / ‖g_i‖ (zero where g_i is zero, or the row has no nonzero token vector).
// No autograd.
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
