#include "heed/models/classifiers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "heed/autograd/engine.h"
#include "heed/autograd/grad_mode.h"
#include "heed/ops/elementwise.h"
#include "heed/tensor/special_ids.h"
#include "heed/ops/loss.h"
#include "heed/ops/reduce.h"
#include "heed/ops/shape_ops.h"
#include "heed/optim/adam.h"
#include "models/classifier_inputs.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;

using Sequence = std::vector<std::int32_t>;
using Document = std::vector<Sequence>;

// ----------------------------------------------------------------------------- batches

// Sequences padded to the longest with `pad` (any id: the models must not look past lengths).
ClassifierBatch sequence_batch(const std::vector<Sequence>& sequences,
                               const std::vector<std::int32_t>& labels = {},
                               std::int32_t pad = kPadId) {
  const Index B = static_cast<Index>(sequences.size());
  Index T = 0;
  for (const Sequence& s : sequences) T = std::max<Index>(T, static_cast<Index>(s.size()));
  ClassifierBatch batch;
  batch.ids = IntTensor(Shape{B, T}, pad);
  batch.lengths = IntTensor(Shape{B});
  for (Index b = 0; b < B; ++b) {
    std::copy(sequences[b].begin(), sequences[b].end(), batch.ids.data() + b * T);
    batch.lengths.data()[b] = static_cast<std::int32_t>(sequences[b].size());
  }
  if (!labels.empty()) batch.labels = IntTensor::from_vector(Shape{B}, labels);
  return batch;
}

// Documents padded to the most sentences and the longest sentence.
ClassifierBatch document_batch(const std::vector<Document>& documents,
                               const std::vector<std::int32_t>& labels = {},
                               std::int32_t pad = kPadId) {
  const Index B = static_cast<Index>(documents.size());
  Index N = 0, L = 0;
  for (const Document& d : documents) {
    N = std::max<Index>(N, static_cast<Index>(d.size()));
    for (const Sequence& s : d) L = std::max<Index>(L, static_cast<Index>(s.size()));
  }
  ClassifierBatch batch;
  batch.ids = IntTensor(Shape{B, N, L}, pad);
  batch.sentence_lengths = IntTensor(Shape{B, N});
  batch.num_sentences = IntTensor(Shape{B});
  for (Index b = 0; b < B; ++b) {
    const Document& d = documents[b];
    batch.num_sentences.data()[b] = static_cast<std::int32_t>(d.size());
    for (size_t n = 0; n < d.size(); ++n) {
      std::copy(d[n].begin(), d[n].end(), batch.ids.data() + (b * N + n) * L);
      batch.sentence_lengths.data()[b * N + n] = static_cast<std::int32_t>(d[n].size());
    }
  }
  if (!labels.empty()) batch.labels = IntTensor::from_vector(Shape{B}, labels);
  return batch;
}

// The toy task: every sequence holds one 5 and one 7 among filler tokens {4, 6, 8, ..., 11};
// the label is 1 if the 5 comes first. Only the order tells the classes apart.
constexpr Index kToyVocab = 12;

Sequence filler(Rng& rng, Index length) {
  static constexpr std::int32_t kFiller[] = {4, 6, 8, 9, 10, 11};
  Sequence s(length);
  for (auto& id : s) id = kFiller[rng.randint(0, 6)];
  return s;
}

ClassifierBatch order_task(Index count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Sequence> sequences;
  std::vector<std::int32_t> labels;
  for (Index i = 0; i < count; ++i) {
    const Index length = rng.randint(3, 9);
    Sequence s = filler(rng, length);
    const Index a = rng.randint(0, length);
    Index b = rng.randint(0, length - 1);
    if (b >= a) ++b;
    const std::int32_t label = static_cast<std::int32_t>(i % 2);  // balanced classes
    s[label == 1 ? std::min(a, b) : std::max(a, b)] = 5;
    s[label == 1 ? std::max(a, b) : std::min(a, b)] = 7;
    sequences.push_back(s);
    labels.push_back(label);
  }
  return sequence_batch(sequences, labels);
}

// The same for documents: 2 to 4 sentences; one sentence holds the 5, a different one the 7.
ClassifierBatch document_order_task(Index count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Document> documents;
  std::vector<std::int32_t> labels;
  for (Index i = 0; i < count; ++i) {
    const Index n = rng.randint(2, 5);
    Document d;
    for (Index k = 0; k < n; ++k) d.push_back(filler(rng, rng.randint(2, 6)));
    const Index a = rng.randint(0, n);
    Index b = rng.randint(0, n - 1);
    if (b >= a) ++b;
    const std::int32_t label = static_cast<std::int32_t>(i % 2);
    Sequence& first = d[std::min(a, b)];
    Sequence& second = d[std::max(a, b)];
    first[rng.randint(0, static_cast<Index>(first.size()))] = label == 1 ? 5 : 7;
    second[rng.randint(0, static_cast<Index>(second.size()))] = label == 1 ? 7 : 5;
    documents.push_back(d);
    labels.push_back(label);
  }
  return document_batch(documents, labels);
}

// ----------------------------------------------------------------------------- shared checks

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, _] : m.named_parameters()) names.push_back(name);
  return names;
}

// Full-batch Adam on cross-entropy until every training example is classified correctly (checked
// in eval mode). Returns the number of steps taken, or -1 if `max_steps` were not enough.
int steps_to_fit(ClassifierModel& model, const ClassifierBatch& batch, float lr, int max_steps) {
  Adam adam(model.named_parameters(), {lr});
  const std::vector<std::int32_t>& labels = batch.labels.values();
  for (int step = 1; step <= max_steps; ++step) {
    model.train();
    adam.zero_grad();
    backward(cross_entropy(model.forward(batch, false).logits, batch.labels));
    adam.step();
    NoGradGuard no_grad;
    model.eval();
    const IntTensor predicted = argmax(model.forward(batch, false).logits, 1);
    if (predicted.values() == labels) return step;
  }
  return -1;
}

::testing::AssertionResult gradcheck_parameters(ClassifierModel& model,
                                                const ClassifierBatch& batch) {
  model.eval();
  return gradcheck([&](const std::vector<Tensor>&) { return model.forward(batch, false).logits; },
                   model.parameters());
}

// Each row of `weights` [R, T] sums to 1 over its first lengths[r] entries and is exactly 0 after.
void expect_distributions(const Tensor& weights, const std::vector<Index>& lengths) {
  const Index T = weights.shape().back();
  ASSERT_EQ(weights.numel(), static_cast<Index>(lengths.size()) * T);
  for (size_t r = 0; r < lengths.size(); ++r) {
    double sum = 0;
    for (Index t = 0; t < T; ++t) {
      const float w = weights.data()[r * T + t];
      if (t < lengths[r]) {
        EXPECT_GE(w, 0.f);
        sum += w;
      } else {
        EXPECT_EQ(w, 0.f) << "row " << r << " position " << t;
      }
    }
    if (lengths[r] > 0) {
      EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << r;
    }
  }
}

// Row `row` of logits [B, C].
Tensor logits_row(const Tensor& logits, Index row) { return slice(logits, 0, row, row + 1); }

// A flat-sequence model (in eval mode) gives an example the same logits alone as padded to 7
// positions next to a longer example, whether the padding holds the pad id or a real id (which
// must not matter either), to within `atol` (and a relative 1e-5).
void expect_padding_invariant(ClassifierModel& model, double atol,
                              const std::string& context) {
  const Sequence example{4, 5, 6};
  const Tensor alone = model.forward(sequence_batch({example}), false).logits;
  for (std::int32_t pad : {kPadId, 6}) {
    ClassifierBatch padded = sequence_batch({{7, 7, 6, 5, 4, 4, 5}, example}, {}, pad);
    EXPECT_TRUE(
        all_close(logits_row(model.forward(padded, false).logits, 1), alone, atol, 1e-5))
        << context << " pad id " << pad;
  }
}

// ----------------------------------------------------------------------------- pooling

TEST(PoolSequence, EachPoolingReadsOnlyTheRealTokens) {
  // h [2, 3, 2]; example 0 has 2 real tokens, its padding position holds values larger than any
  // real one (and would win a max or shift a mean if it were read).
  const Tensor h = Tensor::from_vector(Shape{2, 3, 2}, {1, -4, 3, -2, 100, 100,  //
                                                        -1, 5, 2, 0, 7, -3});
  const IntTensor lengths = IntTensor::from_vector(Shape{2}, {2, 3});
  const Tensor key_padding = detail::padding_mask(lengths, 3);
  Tensor weights;
  const auto pool = [&](ClassifierPooling pooling) {
    return detail::pool_sequence(pooling, h, lengths, key_padding, nullptr, weights);
  };
  EXPECT_TRUE(all_close(pool(ClassifierPooling::kMean), {2, -3, 8 / 3.f, 2 / 3.f}));
  EXPECT_TRUE(all_close(pool(ClassifierPooling::kFirst), {1, -4, -1, 5}));
  EXPECT_TRUE(all_close(pool(ClassifierPooling::kMax), {3, -2, 7, 5}));
  EXPECT_FALSE(weights.defined());
  EXPECT_EQ(detail::pooled_size(ClassifierPooling::kMax, 2), 2);
  EXPECT_EQ(detail::pooled_size(ClassifierPooling::kAttentionMax, 2), 4);
}

TEST(PoolSequence, MaxGradientGoesToTheWinningRealToken) {
  Tensor h = Tensor::from_vector(Shape{1, 3, 2}, {1, 4, 3, -2, 100, 100});
  h.set_requires_grad();
  const IntTensor lengths = IntTensor::from_vector(Shape{1}, {2});
  Tensor weights;
  backward(sum(detail::pool_sequence(ClassifierPooling::kMax, h, lengths,
                                     detail::padding_mask(lengths, 3), nullptr, weights)));
  EXPECT_EQ(h.grad().to_vector(), (std::vector<float>{0, 1, 1, 0, 0, 0}));
}

TEST(PoolSequence, AttentionMaxIsAttentionBesideMax) {
  Rng rng(3);
  const auto attention = detail::make_attention_pooling(ClassifierPooling::kAttentionMax, 2, 3, rng);
  ASSERT_NE(attention, nullptr);
  EXPECT_EQ(detail::make_attention_pooling(ClassifierPooling::kMax, 2, 3, rng), nullptr);
  const Tensor h = Tensor::normal(Shape{2, 4, 2}, rng);
  const IntTensor lengths = IntTensor::from_vector(Shape{2}, {4, 1});
  const Tensor key_padding = detail::padding_mask(lengths, 4);
  Tensor both_weights, attention_weights, unused;
  const Tensor both = detail::pool_sequence(ClassifierPooling::kAttentionMax, h, lengths,
                                            key_padding, attention.get(), both_weights);
  const Tensor alone = detail::pool_sequence(ClassifierPooling::kAttention, h, lengths,
                                             key_padding, attention.get(), attention_weights);
  const Tensor max_only =
      detail::pool_sequence(ClassifierPooling::kMax, h, lengths, key_padding, nullptr, unused);
  EXPECT_EQ(both.shape(), (Shape{2, 4}));
  EXPECT_EQ(both.to_vector(), concat({alone, max_only}, 1).to_vector());
  EXPECT_EQ(both_weights.to_vector(), attention_weights.to_vector());
  EXPECT_THROW_MSG(detail::pool_sequence(ClassifierPooling::kAttention, h, lengths, key_padding,
                                         nullptr, unused),
                   "attention pooling needs its SelfAttentionPooling");
}

// ----------------------------------------------------------------------------- BiGRU

BiGruAttentionOptions tiny_bigru(Index vocab = 8) {
  BiGruAttentionOptions o;
  o.vocab = vocab;
  o.embedding_dim = 3;
  o.hidden = 2;
  o.attention_dim = 3;
  o.num_classes = 2;
  return o;
}

TEST(BiGruAttentionClassifier, ParameterNamesAndCount) {
  BiGruAttentionOptions o = tiny_bigru();
  o.num_layers = 2;
  BiGruAttentionClassifier model(o, 1);
  const std::vector<std::string> names = names_of(model);
  ASSERT_EQ(names.size(), 1u + 16u + 3u + 2u);
  EXPECT_EQ(names.front(), "embedding.weight");
  EXPECT_EQ(names[1], "gru.weight_ih_l0");
  EXPECT_EQ(names[16], "gru.bias_hh_l1_reverse");
  EXPECT_EQ(names[17], "pooling.context");
  EXPECT_EQ(names[18], "pooling.proj.weight");
  EXPECT_EQ(names.back(), "classifier.bias");
  // V·E + GRU (layer 0: 2·(6·3 + 6·2 + 12), layer 1: 2·(6·4 + 6·2 + 12)) + pooling (3 + 3·4 + 3)
  // + classifier (2·4 + 2).
  EXPECT_EQ(model.parameter_count(), 8 * 3 + 2 * 42 + 2 * 48 + 18 + 10);
  EXPECT_EQ(model.num_classes(), 2);
  // attention_max: the output layer reads [attention; max], 2·2H = 8 features.
  o.pooling = ClassifierPooling::kAttentionMax;
  BiGruAttentionClassifier with_max(o, 1);
  EXPECT_EQ(names_of(with_max), names);
  EXPECT_EQ(with_max.parameter_count(), model.parameter_count() + 2 * 4);
}

constexpr ClassifierPooling kBiGruPoolings[] = {ClassifierPooling::kAttention,
                                                ClassifierPooling::kAttentionMax};

TEST(BiGruAttentionClassifier, LogitsAndPoolingAttention) {
  for (ClassifierPooling pooling : kBiGruPoolings) {
    BiGruAttentionOptions o = tiny_bigru();
    o.pooling = pooling;
    BiGruAttentionClassifier model(o, 2);
    model.eval();
    ClassifierBatch batch = sequence_batch({{4, 5, 6}, {7, 6, 5, 4, 3}, {2}});
    ClassifierOutput out = model.forward(batch, true);
    EXPECT_EQ(out.logits.shape(), (Shape{3, 2}));
    ASSERT_EQ(out.attention.size(), 1u);
    EXPECT_EQ(out.attention[0].name, "pooling");
    EXPECT_EQ(out.attention[0].kind, "pool");
    EXPECT_EQ(out.attention[0].weights.shape(), (Shape{3, 5}));
    expect_distributions(out.attention[0].weights, {3, 5, 1});
    EXPECT_TRUE(model.forward(batch, false).attention.empty());
  }
}

TEST(BiGruAttentionClassifier, PaddingDoesNotChangeLogits) {
  for (ClassifierPooling pooling : kBiGruPoolings) {
    BiGruAttentionOptions o = tiny_bigru();
    o.num_layers = 2;
    o.dropout = 0.3f;  // eval mode: no dropout
    o.pooling = pooling;
    BiGruAttentionClassifier model(o, 3);
    model.eval();
    expect_padding_invariant(model, 1e-6, str("pooling ", static_cast<int>(pooling)));
  }
}

TEST(BiGruAttentionClassifier, Gradcheck) {
  for (ClassifierPooling pooling : kBiGruPoolings) {
    BiGruAttentionOptions o = tiny_bigru(6);
    o.pooling = pooling;
    BiGruAttentionClassifier model(o, 4);
    EXPECT_TRUE(gradcheck_parameters(model, sequence_batch({{4, 5, 2}, {3, 1}})))
        << "pooling " << static_cast<int>(pooling);
  }
}

// For each dropout field of Options alone at 0.5 (the others 0): two models of one seed agree,
// training draws masks (a fresh one each forward), evaluation is deterministic and draws none.
template <typename Model, typename Options>
void expect_dropout_seeded_and_training_only(Options base,
                                             std::initializer_list<float Options::*> fields,
                                             const ClassifierBatch& batch) {
  for (float Options::*field : fields) base.*field = 0.f;
  for (float Options::*field : fields) {
    Options o = base;
    o.*field = 0.5f;
    Model a(o, 5), b(o, 5);
    EXPECT_EQ(a.forward(batch, false).logits.to_vector(),
              b.forward(batch, false).logits.to_vector());
    const std::uint64_t before = a.dropout_rng().state().counter;
    const Tensor first = a.forward(batch, false).logits;
    EXPECT_NE(a.dropout_rng().state().counter, before);  // training draws masks
    EXPECT_NE(first.to_vector(), a.forward(batch, false).logits.to_vector());
    a.eval();
    const std::uint64_t frozen = a.dropout_rng().state().counter;
    EXPECT_EQ(a.forward(batch, false).logits.to_vector(),
              a.forward(batch, false).logits.to_vector());
    EXPECT_EQ(a.dropout_rng().state().counter, frozen);
  }
}

TEST(BiGruAttentionClassifier, DropoutIsSeededAndOnlyInTraining) {
  // Before the output layer, on the embeddings, on the words.
  expect_dropout_seeded_and_training_only<BiGruAttentionClassifier>(
      tiny_bigru(),
      {&BiGruAttentionOptions::dropout, &BiGruAttentionOptions::embedding_dropout,
       &BiGruAttentionOptions::word_dropout},
      sequence_batch({{4, 5, 6}, {7, 6}}));
}

TEST(BiGruAttentionClassifier, OverfitsTheOrderTask) {
  BiGruAttentionOptions o = tiny_bigru(kToyVocab);
  o.embedding_dim = 16;
  o.hidden = 16;
  o.attention_dim = 16;
  BiGruAttentionClassifier model(o, 6);
  const int steps = steps_to_fit(model, order_task(32, 7), 1e-2f, 300);
  EXPECT_GT(steps, 0) << "not all 32 training examples classified correctly";
}

TEST(BiGruAttentionClassifier, BadInputsNameTheModel) {
  BiGruAttentionClassifier model(tiny_bigru(), 8);
  ClassifierBatch batch = sequence_batch({{4, 5}, {6}});
  batch.lengths.data()[1] = 0;
  EXPECT_THROW_MSG(model.forward(batch, false),
                   "BiGruAttentionClassifier: lengths[1] = 0 is outside [1, T=2]");
  batch.lengths = IntTensor(Shape{3}, 1);
  EXPECT_THROW_MSG(model.forward(batch, false), "BiGruAttentionClassifier: lengths must be [B]");
  ClassifierBatch docs = document_batch({{{4, 5}}});
  EXPECT_THROW_MSG(model.forward(docs, false),
                   "BiGruAttentionClassifier: ids must be a non-empty [B, T]");
  EXPECT_THROW_MSG(model.forward(sequence_batch({{4, 9}}), false), "embedding: id 9");
  BiGruAttentionOptions o = tiny_bigru();
  o.num_classes = 1;
  EXPECT_THROW_MSG(BiGruAttentionClassifier(o, 1),
                   "BiGruAttentionClassifier: num_classes must be >= 2 (got 1)");
  o = tiny_bigru();
  o.pooling = ClassifierPooling::kMean;
  EXPECT_THROW_MSG(BiGruAttentionClassifier(o, 1),
                   "BiGruAttentionClassifier: pooling must be attention or attention_max");
}

// ----------------------------------------------------------------------------- HAN

HierarchicalAttentionOptions tiny_han(Index vocab = 8) {
  HierarchicalAttentionOptions o;
  o.vocab = vocab;
  o.embedding_dim = 3;
  o.word_hidden = 2;
  o.sentence_hidden = 2;
  o.word_attention_dim = 3;
  o.sentence_attention_dim = 2;
  o.num_classes = 3;
  return o;
}

TEST(HierarchicalAttentionNetwork, ParameterNamesAndCount) {
  HierarchicalAttentionNetwork model(tiny_han(), 1);
  EXPECT_EQ(names_of(model), (std::vector<std::string>{"embedding.weight",
                                                       "word_encoder.weight_ih_l0",
                                                       "word_encoder.weight_hh_l0",
                                                       "word_encoder.bias_ih_l0",
                                                       "word_encoder.bias_hh_l0",
                                                       "word_encoder.weight_ih_l0_reverse",
                                                       "word_encoder.weight_hh_l0_reverse",
                                                       "word_encoder.bias_ih_l0_reverse",
                                                       "word_encoder.bias_hh_l0_reverse",
                                                       "word_attention.context",
                                                       "word_attention.proj.weight",
                                                       "word_attention.proj.bias",
                                                       "sentence_encoder.weight_ih_l0",
                                                       "sentence_encoder.weight_hh_l0",
                                                       "sentence_encoder.bias_ih_l0",
                                                       "sentence_encoder.bias_hh_l0",
                                                       "sentence_encoder.weight_ih_l0_reverse",
                                                       "sentence_encoder.weight_hh_l0_reverse",
                                                       "sentence_encoder.bias_ih_l0_reverse",
                                                       "sentence_encoder.bias_hh_l0_reverse",
                                                       "sentence_attention.context",
                                                       "sentence_attention.proj.weight",
                                                       "sentence_attention.proj.bias",
                                                       "classifier.weight",
                                                       "classifier.bias"}));
  // 8·3 + word GRU 2·(6·3 + 6·2 + 12) + word attention (3 + 3·4 + 3) + sentence GRU
  // 2·(6·4 + 6·2 + 12) + sentence attention (2 + 2·4 + 2) + classifier (3·4 + 3).
  EXPECT_EQ(model.parameter_count(), 24 + 84 + 18 + 96 + 12 + 15);
  EXPECT_EQ(model.num_classes(), 3);
}

TEST(HierarchicalAttentionNetwork, LogitsAndAttentionMaps) {
  HierarchicalAttentionNetwork model(tiny_han(), 2);
  model.eval();
  // Document 0: 2 sentences (lengths 3, 1); document 1: 3 sentences (2, 4, 1).
  ClassifierBatch batch = document_batch({{{4, 5, 6}, {7}}, {{5, 5}, {6, 7, 4, 3}, {2}}});
  ClassifierOutput out = model.forward(batch, true);
  EXPECT_EQ(out.logits.shape(), (Shape{2, 3}));
  ASSERT_EQ(out.attention.size(), 2u);
  EXPECT_EQ(out.attention[0].name, "word_attention");
  EXPECT_EQ(out.attention[0].kind, "word");
  EXPECT_EQ(out.attention[0].weights.shape(), (Shape{2, 3, 4}));
  // The padding sentence (document 0, slot 2) has all-zero word weights.
  expect_distributions(out.attention[0].weights, {3, 1, 0, 2, 4, 1});
  EXPECT_EQ(out.attention[1].name, "sentence_attention");
  EXPECT_EQ(out.attention[1].kind, "sentence");
  EXPECT_EQ(out.attention[1].weights.shape(), (Shape{2, 3}));
  expect_distributions(out.attention[1].weights, {2, 3});
}

TEST(HierarchicalAttentionNetwork, PaddingDoesNotChangeLogits) {
  HierarchicalAttentionOptions o = tiny_han();
  o.dropout = 0.4f;
  HierarchicalAttentionNetwork model(o, 3);
  model.eval();
  const Document example{{4, 5}, {6, 7, 5}};
  ClassifierOutput alone = model.forward(document_batch({example}), true);
  for (std::int32_t pad : {kPadId, 6}) {
    // The other document has more sentences and longer ones: both levels get padded.
    ClassifierBatch padded =
        document_batch({{{7, 7, 6, 5, 4}, {4}, {5, 6}, {6, 6}}, example}, {}, pad);
    ClassifierOutput out = model.forward(padded, true);
    EXPECT_TRUE(all_close(logits_row(out.logits, 1), alone.logits, 1e-6, 1e-5)) << "pad " << pad;
    // Attention of the example: the same values in the same places, zeros in the padding.
    const Tensor words = out.attention[0].weights;          // [2, 4, 5]
    const Tensor words_alone = alone.attention[0].weights;  // [1, 2, 3]
    for (Index n = 0; n < 2; ++n)
      for (Index t = 0; t < 3; ++t)
        EXPECT_NEAR(words.data()[((1 * 4) + n) * 5 + t], words_alone.data()[n * 3 + t], 1e-6);
    expect_distributions(slice(words, 0, 1, 2), {2, 3, 0, 0});
    expect_distributions(slice(out.attention[1].weights, 0, 1, 2), {2});
  }
}

TEST(HierarchicalAttentionNetwork, Gradcheck) {
  HierarchicalAttentionNetwork model(tiny_han(6), 4);
  // A padding sentence, a one-word sentence and a full batch row: every path of the scatter.
  EXPECT_TRUE(
      gradcheck_parameters(model, document_batch({{{4, 5, 2}, {3}}, {{1, 2}, {5, 4}, {3, 3}}})));
}

TEST(HierarchicalAttentionNetwork, DropoutIsSeededAndOnlyInTraining) {
  expect_dropout_seeded_and_training_only<HierarchicalAttentionNetwork>(
      tiny_han(),
      {&HierarchicalAttentionOptions::dropout, &HierarchicalAttentionOptions::embedding_dropout,
       &HierarchicalAttentionOptions::word_dropout},
      document_batch({{{4, 5, 6}, {7}}, {{6, 6}}}));
}

TEST(HierarchicalAttentionNetwork, OverfitsTheSentenceOrderTask) {
  HierarchicalAttentionOptions o = tiny_han(kToyVocab);
  o.num_classes = 2;
  o.embedding_dim = 16;
  o.word_hidden = 12;
  o.sentence_hidden = 12;
  o.word_attention_dim = 16;
  o.sentence_attention_dim = 16;
  HierarchicalAttentionNetwork model(o, 6);
  const int steps = steps_to_fit(model, document_order_task(32, 7), 1e-2f, 300);
  EXPECT_GT(steps, 0) << "not all 32 training documents classified correctly";
}

TEST(HierarchicalAttentionNetwork, BadInputsNameTheModel) {
  HierarchicalAttentionNetwork model(tiny_han(), 8);
  ClassifierBatch batch = document_batch({{{4, 5}, {6}}, {{7}}});
  EXPECT_THROW_MSG(model.forward(sequence_batch({{4, 5}}), false),
                   "HierarchicalAttentionNetwork: ids must be a non-empty [B, N, L]");
  ClassifierBatch bad = batch;
  bad.num_sentences = IntTensor::from_vector(Shape{2}, {2, 0});
  EXPECT_THROW_MSG(model.forward(bad, false),
                   "HierarchicalAttentionNetwork: num_sentences[1] = 0 is outside [1, N=2]");
  bad = document_batch({{{4, 5}, {6}}, {{7}}});
  bad.sentence_lengths.data()[3] = 1;  // document 1's padding sentence claims a word
  EXPECT_THROW_MSG(
      model.forward(bad, false),
      "HierarchicalAttentionNetwork: sentence_lengths[1, 1] = 1 for a padding sentence");
  bad = document_batch({{{4, 5}, {6}}, {{7}}});
  bad.sentence_lengths.data()[1] = 0;  // an empty real sentence
  EXPECT_THROW_MSG(model.forward(bad, false),
                   "HierarchicalAttentionNetwork: sentence_lengths[0, 1] = 0 is outside [1, L=2]");
  bad = document_batch({{{4, 5}, {6}}, {{7}}});
  bad.sentence_lengths = IntTensor(Shape{2, 3});
  EXPECT_THROW_MSG(model.forward(bad, false),
                   "HierarchicalAttentionNetwork: sentence_lengths must be [B, N] = [2, 2]");
}

// ----------------------------------------------------------------------------- Transformer

TransformerClassifierOptions tiny_transformer(ClassifierPooling pooling, Index vocab = 8) {
  TransformerClassifierOptions o;
  o.vocab = vocab;
  o.d_model = 4;
  o.num_heads = 2;
  o.num_layers = 2;
  o.dim_feedforward = 6;
  o.dropout = 0.f;
  o.pooling = pooling;
  o.num_classes = 2;
  o.max_len = 16;
  return o;
}

constexpr ClassifierPooling kPoolings[] = {ClassifierPooling::kMean, ClassifierPooling::kFirst,
                                           ClassifierPooling::kMax, ClassifierPooling::kAttention,
                                           ClassifierPooling::kAttentionMax};

TEST(TransformerClassifier, ParameterNamesAndCount) {
  TransformerClassifier model(tiny_transformer(ClassifierPooling::kMean), 1);
  const std::vector<std::string> names = names_of(model);
  const std::vector<std::string> layer0{"encoder.layers.0.self_attn.in_proj_weight",
                                        "encoder.layers.0.self_attn.in_proj_bias",
                                        "encoder.layers.0.self_attn.out_proj.weight",
                                        "encoder.layers.0.self_attn.out_proj.bias",
                                        "encoder.layers.0.linear1.weight",
                                        "encoder.layers.0.linear1.bias",
                                        "encoder.layers.0.linear2.weight",
                                        "encoder.layers.0.linear2.bias",
                                        "encoder.layers.0.norm1.weight",
                                        "encoder.layers.0.norm1.bias",
                                        "encoder.layers.0.norm2.weight",
                                        "encoder.layers.0.norm2.bias"};
  ASSERT_EQ(names.size(), 1u + 2 * layer0.size() + 2u);
  EXPECT_EQ(names.front(), "embedding.weight");
  EXPECT_EQ(std::vector<std::string>(names.begin() + 1, names.begin() + 13), layer0);
  EXPECT_EQ(names[names.size() - 2], "classifier.weight");
  EXPECT_EQ(names.back(), "classifier.bias");
  // Per layer: in_proj 12·4 + 12, out_proj 4·4 + 4, linear1 6·4 + 6, linear2 4·6 + 4, two norms 16.
  const Index per_layer = 60 + 20 + 30 + 28 + 16;
  EXPECT_EQ(model.parameter_count(), 8 * 4 + 2 * per_layer + 2 * 4 + 2);

  // Pre-norm adds the final encoder.norm; attention pooling adds pooling.*.
  TransformerClassifierOptions o = tiny_transformer(ClassifierPooling::kAttention);
  o.norm_first = true;
  TransformerClassifier other(o, 1);
  const std::vector<std::string> other_names = names_of(other);
  EXPECT_EQ(std::vector<std::string>(other_names.end() - 7, other_names.end()),
            (std::vector<std::string>{"encoder.norm.weight", "encoder.norm.bias", "pooling.context",
                                      "pooling.proj.weight", "pooling.proj.bias",
                                      "classifier.weight", "classifier.bias"}));
  EXPECT_EQ(other.parameter_count(), model.parameter_count() + 8 + (4 + 16 + 4));
}

TEST(TransformerClassifier, BenchmarkSizeHasPyTorchsParameterCount) {
  // ../shared/bench/peer_torch.py --model sentiment: 2,825,218 parameters in PyTorch
  // (embedding 2,560,000 + 2 encoder layers of 132,480 + Linear(128 -> 2) 258).
  TransformerClassifierOptions o;
  o.vocab = 20000;
  o.d_model = 128;
  o.num_heads = 4;
  o.num_layers = 2;
  o.dim_feedforward = 256;
  o.num_classes = 2;
  EXPECT_EQ(TransformerClassifier(o, 1).parameter_count(), 2825218);
}

TEST(TransformerClassifier, LogitsAndAttentionMaps) {
  for (ClassifierPooling pooling : kPoolings) {
    TransformerClassifier model(tiny_transformer(pooling), 2);
    model.eval();
    ClassifierOutput out = model.forward(sequence_batch({{4, 5, 6}, {7, 6, 5, 4, 3}}), true);
    EXPECT_EQ(out.logits.shape(), (Shape{2, 2}));
    const bool attention_pooling = pooling == ClassifierPooling::kAttention ||
                                   pooling == ClassifierPooling::kAttentionMax;
    ASSERT_EQ(out.attention.size(), attention_pooling ? 3u : 2u);
    for (int i = 0; i < 2; ++i) {
      const AttentionMap& map = out.attention[i];
      EXPECT_EQ(map.name, "encoder.layers." + std::to_string(i) + ".self_attn");
      EXPECT_EQ(map.kind, "self");
      EXPECT_EQ(map.weights.shape(), (Shape{2, 2, 5, 5}));
      // Every query row (2 heads × 5 queries) of example 0 puts zero weight on keys 3 and 4.
      expect_distributions(slice(map.weights, 0, 0, 1), std::vector<Index>(10, 3));
      expect_distributions(slice(map.weights, 0, 1, 2), std::vector<Index>(10, 5));
    }
    if (attention_pooling) {
      EXPECT_EQ(out.attention[2].name, "pooling");
      EXPECT_EQ(out.attention[2].kind, "pool");
      expect_distributions(out.attention[2].weights, {3, 5});
    }
  }
}

TEST(TransformerClassifier, PaddingDoesNotChangeLogits) {
  for (ClassifierPooling pooling : kPoolings) {
    for (bool norm_first : {false, true}) {
      TransformerClassifierOptions o = tiny_transformer(pooling);
      o.norm_first = norm_first;
      o.dropout = 0.2f;  // eval mode: no dropout
      TransformerClassifier model(o, 3);
      model.eval();
      expect_padding_invariant(
          model, 1e-5, str("pooling ", static_cast<int>(pooling), " norm_first ", norm_first));
    }
  }
}

// Sets the output layer to the identity (num_classes == d_model), so the logits are the pooled
// vector itself.
void make_output_identity(Module& model, Index d) {
  for (auto& [name, p] : model.named_parameters()) {
    if (name == "classifier.weight") {
      p.fill_(0.f);
      for (Index i = 0; i < d; ++i) p.data()[i * d + i] = 1.f;
    } else if (name == "classifier.bias") {
      p.fill_(0.f);
    }
  }
}

TEST(TransformerClassifier, MeanPoolingIsAttentionPoolingWithAZeroContextVector) {
  // With w₂ = 0 every score is 0, so attention pooling weighs the real tokens uniformly: the mean.
  // Both models share embedding and encoder weights (same seed; the pooling layer is created
  // after the encoder), and their output layers are set to the identity.
  TransformerClassifierOptions o = tiny_transformer(ClassifierPooling::kMean);
  o.num_classes = o.d_model;
  TransformerClassifier mean_model(o, 4);
  o.pooling = ClassifierPooling::kAttention;
  TransformerClassifier attention_model(o, 4);
  for (Module* m : std::initializer_list<Module*>{&mean_model, &attention_model}) {
    make_output_identity(*m, o.d_model);
    m->eval();
  }
  for (auto& [name, p] : attention_model.named_parameters())
    if (name == "pooling.context") p.fill_(0.f);

  const ClassifierBatch batch = sequence_batch({{4, 5, 6}, {7, 6, 5, 4, 7}});
  ClassifierOutput attention = attention_model.forward(batch, true);
  EXPECT_TRUE(all_close(attention.attention.back().weights,
                        {1 / 3.f, 1 / 3.f, 1 / 3.f, 0, 0, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f}));
  EXPECT_TRUE(all_close(mean_model.forward(batch, false).logits, attention.logits, 1e-6, 1e-5));
}

TEST(TransformerClassifier, Gradcheck) {
  for (ClassifierPooling pooling : kPoolings) {
    TransformerClassifierOptions o = tiny_transformer(pooling, 6);
    o.num_layers = 1;
    // GELU: no relu kink for the finite differences to straddle.
    o.activation = Activation::kGelu;
    o.norm_first = pooling == ClassifierPooling::kFirst;
    TransformerClassifier model(o, 5);
    EXPECT_TRUE(gradcheck_parameters(model, sequence_batch({{4, 5, 2}, {3, 1}})))
        << "pooling " << static_cast<int>(pooling);
  }
}

TEST(TransformerClassifier, DropoutIsSeededAndOnlyInTraining) {
  expect_dropout_seeded_and_training_only<TransformerClassifier>(
      tiny_transformer(ClassifierPooling::kMean),
      {&TransformerClassifierOptions::dropout, &TransformerClassifierOptions::word_dropout},
      sequence_batch({{4, 5, 6}, {7, 6}}));
}

TEST(TransformerClassifier, OverfitsTheOrderTask) {
  for (ClassifierPooling pooling : {ClassifierPooling::kMean, ClassifierPooling::kAttention}) {
    TransformerClassifierOptions o = tiny_transformer(pooling, kToyVocab);
    o.d_model = 16;
    o.num_heads = 2;
    o.dim_feedforward = 32;
    TransformerClassifier model(o, 6);
    const int steps = steps_to_fit(model, order_task(32, 7), 1e-2f, 300);
    EXPECT_GT(steps, 0) << "pooling " << static_cast<int>(pooling)
                        << ": not all 32 training examples classified correctly";
  }
}

TEST(TransformerClassifier, BadInputsNameTheModel) {
  TransformerClassifier model(tiny_transformer(ClassifierPooling::kMean), 8);
  EXPECT_THROW_MSG(model.forward(sequence_batch({Sequence(17, 4)}), false),
                   "TransformerClassifier: sequence length 17 exceeds max_len 16");
  ClassifierBatch batch = sequence_batch({{4, 5}, {6}});
  batch.lengths.data()[0] = 3;
  EXPECT_THROW_MSG(model.forward(batch, false),
                   "TransformerClassifier: lengths[0] = 3 is outside [1, T=2]");
  TransformerClassifierOptions o = tiny_transformer(ClassifierPooling::kMean);
  o.num_heads = 3;
  EXPECT_THROW(TransformerClassifier(o, 1), Error);  // d_model 4 is not divisible by 3 heads
}

// ----------------------------------------------------------------------------- all three

// batch.perturb_embeddings (adversarial training) sees each model's word embeddings, rows of
// tokens × E (the HAN's rows are its real sentences), and what it returns is what the model reads.
TEST(Classifiers, EveryModelReadsItsEmbeddingsThroughThePerturbation) {
  struct Case {
    std::unique_ptr<ClassifierModel> model;
    ClassifierBatch batch;
    Shape embeddings;
  };
  std::vector<Case> cases;
  cases.push_back({std::make_unique<BiGruAttentionClassifier>(tiny_bigru(), 1),
                   sequence_batch({{4, 5, 6}, {7}}), Shape{2, 3, 3}});
  cases.push_back({std::make_unique<HierarchicalAttentionNetwork>(tiny_han(), 2),
                   document_batch({{{4, 5}, {6}}, {{7, 6, 5}}}), Shape{3, 3, 3}});
  cases.push_back(
      {std::make_unique<TransformerClassifier>(tiny_transformer(ClassifierPooling::kMean), 3),
       sequence_batch({{4, 5, 6}, {7}}), Shape{2, 3, 4}});
  for (Case& c : cases) {
    c.model->eval();
    const std::vector<float> plain = c.model->forward(c.batch, false).logits.to_vector();
    Shape seen;
    c.batch.perturb_embeddings = [&seen](const Tensor& e) {
      seen = e.shape();
      return e;
    };
    EXPECT_EQ(c.model->forward(c.batch, false).logits.to_vector(), plain);
    EXPECT_EQ(seen, c.embeddings);
    c.batch.perturb_embeddings = [](const Tensor& e) { return add(e, 0.5f); };
    EXPECT_NE(c.model->forward(c.batch, false).logits.to_vector(), plain);
  }
}

// model.ngram_buckets (nn/ngram_embedding.h) on the two recurrent classifiers: one more parameter,
// initialized after all the others (so the rest of the model is the model without it), read
// with the word embeddings, and every check the models pass without it still holds.
TEST(Classifiers, NgramEmbeddingsAddToTheWordEmbeddings) {
  BiGruAttentionOptions bigru = tiny_bigru();
  bigru.ngram_buckets = 11;
  bigru.ngram_order = 3;
  BiGruAttentionClassifier with(bigru, 4);
  BiGruAttentionClassifier without(tiny_bigru(), 4);
  std::vector<std::string> names = names_of(without);
  names.push_back("ngram_embedding.weight");
  EXPECT_EQ(names_of(with), names);
  EXPECT_EQ(with.parameter_count(), without.parameter_count() + 11 * 3);
  const auto with_params = with.named_parameters(), without_params = without.named_parameters();
  for (size_t i = 0; i < without_params.size(); ++i)
    EXPECT_EQ(with_params[i].second.to_vector(), without_params[i].second.to_vector())
        << with_params[i].first;
  with.eval();
  without.eval();
  const ClassifierBatch batch = sequence_batch({{4, 5, 2}, {3, 1}});
  EXPECT_NE(with.forward(batch, false).logits.to_vector(),
            without.forward(batch, false).logits.to_vector());
  expect_padding_invariant(with, 1e-6, "bigram and trigram embeddings");
  with.train();
  EXPECT_TRUE(gradcheck_parameters(with, batch));

  // The HAN, with a factorized table: 9 buckets of 2 numbers mapped to E = 3.
  HierarchicalAttentionOptions han = tiny_han(6);
  han.ngram_buckets = 9;
  han.ngram_dim = 2;
  HierarchicalAttentionNetwork han_with(han, 4);
  HierarchicalAttentionNetwork han_without(tiny_han(6), 4);
  EXPECT_EQ(han_with.parameter_count(), han_without.parameter_count() + 9 * 2 + 3 * 2);
  EXPECT_EQ(names_of(han_with).back(), "ngram_embedding.proj.weight");
  const ClassifierBatch docs = document_batch({{{4, 5, 2}, {3}}, {{1, 2}, {5, 4}, {3, 3}}});
  han_with.eval();
  han_without.eval();
  EXPECT_NE(han_with.forward(docs, false).logits.to_vector(),
            han_without.forward(docs, false).logits.to_vector());
  han_with.train();
  EXPECT_TRUE(gradcheck_parameters(han_with, docs));

  // N-gram dropout draws from the model's dropout stream in training only: the evaluated model
  // is the model without it, a training forward differs (no other dropout is on here).
  BiGruAttentionOptions dropping = bigru;
  dropping.ngram_dropout = 0.5f;
  BiGruAttentionClassifier with_dropout(dropping, 4);
  with_dropout.eval();
  EXPECT_EQ(with_dropout.forward(batch, false).logits.to_vector(),
            with.forward(batch, false).logits.to_vector());
  with_dropout.train();
  with.train();
  const ClassifierBatch longer = sequence_batch({{4, 5, 2, 3, 6, 7, 4, 5}, {3, 1, 2, 6, 5, 4}});
  EXPECT_NE(with_dropout.forward(longer, false).logits.to_vector(),
            with.forward(longer, false).logits.to_vector());
  dropping.ngram_dropout = 1.f;
  EXPECT_THROW_MSG(BiGruAttentionClassifier(dropping, 1),
                   "BiGruAttentionClassifier: ngram_dropout must be in [0, 1) (got 1)");
  han.ngram_dropout = -0.1f;
  EXPECT_THROW_MSG(HierarchicalAttentionNetwork(han, 1),
                   "HierarchicalAttentionNetwork: ngram_dropout must be in [0, 1) (got -0.1)");
  han.ngram_dropout = 0.f;

  bigru.ngram_buckets = 1;
  EXPECT_THROW_MSG(BiGruAttentionClassifier(bigru, 1),
                   "BiGruAttentionClassifier: ngram_buckets must be 0 (none) or >= 2 (got 1)");
  bigru.ngram_buckets = 11;
  bigru.ngram_dim = 4;
  EXPECT_THROW_MSG(BiGruAttentionClassifier(bigru, 1),
                   "BiGruAttentionClassifier: ngram_dim must be in [0, embedding_dim = 3] (got 4)");
  han.ngram_order = 1;
  EXPECT_THROW_MSG(HierarchicalAttentionNetwork(han, 1),
                   "HierarchicalAttentionNetwork: ngram_order must be >= 2 (got 1)");
}

}  // namespace
}  // namespace heed
