// Adversarial training on word embeddings (train/adversarial.h): the perturbation's size and
// direction, that the probe changes nothing and the attack raises the loss of a real classifier,
// and the errors.
#include "heed/train/adversarial.h"

#include <gtest/gtest.h>

#include <cmath>

#include "heed/autograd/engine.h"
#include "heed/models/classifiers.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/loss.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

float row_norm(const std::vector<float>& v, std::size_t begin, std::size_t n) {
  double s = 0;
  for (std::size_t k = begin; k < begin + n; ++k) s += static_cast<double>(v[k]) * v[k];
  return static_cast<float>(std::sqrt(s));
}

TEST(AdversarialPerturbation, EachRowIsItsGradientScaledToEpsilonTimesItsTokenNorm) {
  // Three rows of two 2-dimensional tokens: the middle row's gradient is zero, the last row's
  // first token is padding (a zero embedding).
  const Tensor g = Tensor::from_vector({3, 2, 2}, {3, 0, 0, 4, 0, 0, 0, 0, 1, -2, 2, 0});
  const Tensor e = Tensor::from_vector({3, 2, 2}, {1, 1, 1, 1, 5, 0, 0, 0, 0, 0, 0, 4});
  const std::vector<float> r = adversarial_perturbation(g, e, 0.1f).to_vector();
  ASSERT_EQ(r.size(), 12u);
  // Row 0: token norms √2 and √2 (root mean square √2), ‖g‖ = 5 → r = 0.1·√2·g/5.
  const float sqrt2 = std::sqrt(2.f);
  EXPECT_NEAR(r[0], 0.1f * sqrt2 * 3.f / 5.f, 1e-6f);
  EXPECT_NEAR(r[3], 0.1f * sqrt2 * 4.f / 5.f, 1e-6f);
  EXPECT_NEAR(row_norm(r, 0, 4), 0.1f * sqrt2, 1e-6f);
  // Row 1: no gradient, no move (not a division by zero).
  for (std::size_t k = 4; k < 8; ++k) EXPECT_EQ(r[k], 0.f);
  // Row 2: one real token of norm 4 (the padding token is not counted), ‖g‖ = 3 → norm 0.4
  // along g.
  EXPECT_NEAR(row_norm(r, 8, 4), 0.4f, 1e-6f);
  EXPECT_NEAR(r[9], 0.4f * -2.f / 3.f, 1e-6f);
  EXPECT_EQ(r[11], 0.f);
  // A row of padding only: nothing to scale by.
  const std::vector<float> none =
      adversarial_perturbation(Tensor::ones({1, 2, 2}), Tensor::zeros({1, 2, 2}), 0.1f).to_vector();
  EXPECT_EQ(none, std::vector<float>(4, 0.f));
  EXPECT_THROW_MSG(adversarial_perturbation(g, Tensor::zeros({3, 4}), 0.1f),
                   "adversarial_perturbation: gradient [3, 2, 2] and embeddings [3, 4] differ "
                   "in shape");
}

struct TinyClassifier {
  TinyClassifier() : model(options(), 3) { model.eval(); }  // no dropout: losses comparable
  static BiGruAttentionOptions options() {
    BiGruAttentionOptions o;
    o.vocab = 12;
    o.embedding_dim = 4;
    o.hidden = 3;
    o.attention_dim = 3;
    o.num_classes = 2;
    o.pooling = ClassifierPooling::kAttentionMax;
    return o;
  }
  Tensor loss(const ClassifierBatch& batch) {
    return cross_entropy(model.forward(batch, false).logits, batch.labels);
  }
  BiGruAttentionClassifier model;
};

ClassifierBatch two_examples() {
  ClassifierBatch batch;
  batch.ids = IntTensor::from_vector({2, 4}, {4, 5, 6, 7, 8, 9, 0, 0});
  batch.lengths = IntTensor::from_vector({2}, {4, 2});
  batch.labels = IntTensor::from_vector({2}, {1, 0});
  return batch;
}

TEST(AdversarialEmbeddings, ProbeChangesNothingAndTheAttackRaisesTheLoss) {
  TinyClassifier tiny;
  ClassifierBatch batch = two_examples();
  const float clean = tiny.loss(batch).item();

  AdversarialEmbeddings adversarial(0.05f);
  batch.perturb_embeddings = adversarial.probe();
  const Tensor probed = tiny.loss(batch);
  EXPECT_EQ(probed.item(), clean);  // δ = 0
  backward(probed);

  batch.perturb_embeddings = adversarial.attack();
  const float attacked = tiny.loss(batch).item();
  EXPECT_GT(attacked, clean);
  // The move is along the gradient: the opposite move of the same size lowers the loss, and the
  // loss rises at the rate ‖r‖·‖g‖ to first order (checked against the opposite move).
  AdversarialEmbeddings reversed(0.05f);
  batch.perturb_embeddings = reversed.probe();
  backward(tiny.loss(batch));
  const AdversarialEmbeddings::Perturbation forward_move = reversed.attack();
  batch.perturb_embeddings = [&](const Tensor& e) {
    const Tensor moved = forward_move(e);  // e + r
    return sub(mul(e, 2.f), moved);        // e - r
  };
  const float opposite = tiny.loss(batch).item();
  EXPECT_LT(opposite, clean);
  EXPECT_NEAR(attacked - clean, clean - opposite, 0.1f * (attacked - clean));
}

TEST(AdversarialEmbeddings, AttackNeedsAProbeAndEpsilonMustBePositive) {
  AdversarialEmbeddings adversarial(0.1f);
  EXPECT_THROW_MSG(adversarial.attack(), "no probe() forward ran before");
  EXPECT_THROW_MSG(AdversarialEmbeddings(0.f), "epsilon must be > 0 (got 0)");
}

TEST(AdversarialEmbeddings, TheAttackRefusesEmbeddingsOfAnotherShape) {
  TinyClassifier tiny;
  ClassifierBatch batch = two_examples();
  AdversarialEmbeddings adversarial(0.1f);
  batch.perturb_embeddings = adversarial.probe();
  backward(tiny.loss(batch));
  batch.perturb_embeddings = adversarial.attack();
  batch.ids = IntTensor::from_vector({1, 2}, {4, 5});
  batch.lengths = IntTensor::from_vector({1}, {2});
  batch.labels = IntTensor::from_vector({1}, {1});
  EXPECT_THROW_MSG(tiny.loss(batch), "AdversarialEmbeddings: embeddings [1, 2, 4] are not the "
                                     "probed [2, 4, 4]");
}

}  // namespace
}  // namespace heed
