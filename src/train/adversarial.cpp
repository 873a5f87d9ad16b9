// Adversarial perturbation of word embeddings: see train/adversarial.h.
#include "heed/train/adversarial.h"

#include <cmath>

#include "heed/ops/elementwise.h"
#include "heed/util/check.h"

namespace heed {

Tensor adversarial_perturbation(const Tensor& gradient, const Tensor& embeddings, float epsilon) {
  CHECK(gradient.shape() == embeddings.shape(), "adversarial_perturbation: gradient ",
        gradient.shape(), " and embeddings ", embeddings.shape(), " differ in shape");
  CHECK(gradient.ndim() >= 1, "adversarial_perturbation: needs a row dimension");
  CHECK(epsilon >= 0.f, "adversarial_perturbation: epsilon must be >= 0 (got ", epsilon, ")");
  const Tensor& g = gradient;  // tensors are contiguous
  const Tensor& e = embeddings;
  const Index rows = g.size(0);
  const Index width = rows > 0 ? g.numel() / rows : 0;  // tokens × E
  const Index E = g.shape().back();
  Tensor r = Tensor::empty(g.shape());
  const float* gp = g.data();
  const float* ep = e.data();
  float* rp = r.data();
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < rows; ++i) {
    const float* gi = gp + i * width;
    const float* ei = ep + i * width;
    double g2 = 0, e2 = 0;  // double: a row holds up to ~10^5 values
    Index tokens = 0;
    for (Index k = 0; k < width; ++k) g2 += static_cast<double>(gi[k]) * gi[k];
    for (Index t = 0; t < width; t += E) {
      double token2 = 0;
      for (Index k = t; k < t + E; ++k) token2 += static_cast<double>(ei[k]) * ei[k];
      e2 += token2;
      tokens += token2 > 0;  // padding embeddings are zero vectors
    }
    const double token_norm = tokens > 0 ? std::sqrt(e2 / static_cast<double>(tokens)) : 0.0;
    const float scale = g2 > 0 ? static_cast<float>(epsilon * token_norm / std::sqrt(g2)) : 0.f;
    float* ri = rp + i * width;
    for (Index k = 0; k < width; ++k) ri[k] = scale * gi[k];
  }
  return r;
}

AdversarialEmbeddings::AdversarialEmbeddings(float epsilon) : epsilon_(epsilon) {
  CHECK(epsilon > 0.f, "AdversarialEmbeddings: epsilon must be > 0 (got ", epsilon, ")");
}

AdversarialEmbeddings::Perturbation AdversarialEmbeddings::probe() {
  return [this](const Tensor& embeddings) {
    embeddings_ = embeddings.detach();
    delta_ = Tensor::zeros(embeddings.shape());
    delta_.set_requires_grad(true);
    return add(embeddings, delta_);
  };
}

AdversarialEmbeddings::Perturbation AdversarialEmbeddings::attack() {
  CHECK(delta_.defined(), "AdversarialEmbeddings::attack: no probe() forward ran before");
  // No gradient reached the embeddings (e.g. a frozen path): no move.
  const Tensor gradient = delta_.grad().defined() ? delta_.grad() : Tensor::zeros(delta_.shape());
  const Tensor r = adversarial_perturbation(gradient, embeddings_, epsilon_);
  return [r](const Tensor& embeddings) {
    CHECK(embeddings.shape() == r.shape(), "AdversarialEmbeddings: embeddings ",
          embeddings.shape(), " are not the probed ", r.shape());
    return add(embeddings, r);
  };
}

}  // namespace heed
