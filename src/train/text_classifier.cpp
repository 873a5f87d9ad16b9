// TextClassifier and the shared evaluation pass over a batcher (text_classifier.h).
#include "heed/train/text_classifier.h"

#include <algorithm>
#include <cmath>

#include "heed/autograd/grad_mode.h"
#include "heed/ops/loss.h"
#include "heed/util/check.h"

namespace heed {

namespace {

// Evaluation mode for the scope, the previous mode restored after.
class EvalMode {
 public:
  explicit EvalMode(Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalMode() { module_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

// Row-wise softmax of logits [B, C] into out[B * C] (in double, for the sums).
void softmax_rows(const Tensor& logits, float* out) {
  const Index B = logits.size(0), C = logits.size(1);
  const float* x = logits.data();
  for (Index b = 0; b < B; ++b) {
    const float* row = x + b * C;
    const float top = *std::max_element(row, row + C);
    double z = 0;
    for (Index c = 0; c < C; ++c) z += std::exp(static_cast<double>(row[c] - top));
    for (Index c = 0; c < C; ++c) {
      out[b * C + c] = static_cast<float>(std::exp(static_cast<double>(row[c] - top)) / z);
    }
  }
}

template <typename Example>
ClassifierRun run_batches(ClassifierModel& model, const Batcher<Example>& batcher,
                          Progress* progress) {
  EvalMode eval_mode(model);
  NoGradGuard no_grad;
  ClassifierRun run;
  const auto N = static_cast<std::size_t>(batcher.size());
  run.predicted.assign(N, 0);
  run.gold.assign(N, 0);
  const Index C = model.num_classes();
  run.probabilities.classes = C;
  run.probabilities.values.assign(N * static_cast<std::size_t>(C), 0.f);
  double loss_sum = 0;
  std::vector<float> probabilities;
  for (const std::vector<std::int64_t>& indices : batcher.epoch_plan()) {
    ClassifierBatch batch = to_classifier_batch(batcher.collate(indices));
    const Tensor logits = model.forward(batch, false).logits;
    const auto B = static_cast<std::size_t>(indices.size());
    loss_sum +=
        static_cast<double>(cross_entropy(logits, batch.labels).item()) * static_cast<double>(B);
    probabilities.resize(B * static_cast<std::size_t>(C));
    softmax_rows(logits, probabilities.data());
    for (std::size_t b = 0; b < B; ++b) {
      const auto i = static_cast<std::size_t>(indices[b]);
      const float* row = probabilities.data() + b * C;
      std::copy(row, row + C, run.probabilities.values.data() + i * C);
      run.predicted[i] = static_cast<std::int32_t>(std::max_element(row, row + C) - row);
      run.gold[i] = batch.labels.data()[b];
    }
    if (progress) progress->advance(static_cast<std::int64_t>(B));
  }
  run.loss = N > 0 ? loss_sum / static_cast<double>(N) : 0.0;
  return run;
}

}  // namespace

std::vector<Prediction> most_probable(const ClassProbabilities& probabilities) {
  const std::int64_t N = probabilities.size(), C = probabilities.classes;
  std::vector<Prediction> out(static_cast<std::size_t>(N));
  for (std::int64_t i = 0; i < N; ++i) {
    const float* row = probabilities.row(i);
    const auto best = std::max_element(row, row + C) - row;  // first maximum on ties
    out[static_cast<std::size_t>(i)] = {static_cast<std::int32_t>(best), row[best]};
  }
  return out;
}

ClassificationExample encode_text(const Tokenizer& tokenizer, std::string_view text,
                                  std::int32_t label) {
  ClassificationExample example{tokenizer.encode(text), label};
  if (example.tokens.empty()) example.tokens.push_back(kUnkId);
  return example;
}

DocumentExample encode_document(const Tokenizer& tokenizer, std::string_view text,
                                const DocumentLimits& limits, std::int32_t label) {
  DocumentExample example;
  example.label = label;
  for (const std::string& sentence : split_document(text, limits)) {
    std::vector<std::int32_t> ids = tokenizer.encode(sentence);
    if (!ids.empty()) example.sentences.push_back(std::move(ids));
  }
  if (example.sentences.empty()) example.sentences.push_back({kUnkId});
  return example;
}

ClassifierBatch to_classifier_batch(ClassificationBatch batch) {
  ClassifierBatch out;
  out.ids = std::move(batch.tokens);
  out.lengths = std::move(batch.lengths);
  out.labels = std::move(batch.labels);
  return out;
}

ClassifierBatch to_classifier_batch(DocumentBatch batch) {
  ClassifierBatch out;
  out.ids = std::move(batch.tokens);
  out.sentence_lengths = std::move(batch.sentence_lengths);
  out.num_sentences = std::move(batch.sentence_counts);
  out.labels = std::move(batch.labels);
  return out;
}

ClassifierRun run_classifier(ClassifierModel& model, const ClassificationBatcher& batcher,
                             Progress* progress) {
  return run_batches(model, batcher, progress);
}

ClassifierRun run_classifier(ClassifierModel& model, const DocumentBatcher& batcher,
                             Progress* progress) {
  return run_batches(model, batcher, progress);
}

TextClassifier::TextClassifier(Tokenizer tokenizer, ClassifierModel& model,
                               std::vector<std::string> labels, TextEncoding encoding)
    : tokenizer_(std::move(tokenizer)),
      model_(model),
      labels_(std::move(labels)),
      encoding_(encoding) {
  CHECK(static_cast<Index>(labels_.size()) == model_.num_classes(),
        "TextClassifier: ", labels_.size(), " label names for a model of ", model_.num_classes(),
        " classes");
}

std::vector<Prediction> TextClassifier::predict(const std::vector<std::string>& texts,
                                                std::int64_t batch_tokens,
                                                Progress* progress) const {
  return most_probable(probabilities(texts, batch_tokens, progress));
}

ClassProbabilities TextClassifier::probabilities(const std::vector<std::string>& texts,
                                                 std::int64_t batch_tokens,
                                                 Progress* progress) const {
  if (texts.empty()) return {.classes = model_.num_classes(), .values = {}};
  // Sorted into batches of similar length (the batcher's global bucketing without shuffling);
  // the token budget grows to fit the largest text, so no text is refused.
  BatcherOptions options{.max_tokens = batch_tokens,
                         .max_length = encoding_.max_length,
                         .overlong = Overlong::kCrop,
                         .bucketing = Bucketing::kGlobal,
                         .shuffle = false};
  auto predictions_of = [&](auto examples, auto extent) {
    for (const auto& e : examples) options.max_tokens = std::max(options.max_tokens, extent(e));
    using Example = typename decltype(examples)::value_type;
    Batcher<Example> batcher(std::move(examples), options, Rng(0));
    // Nothing is dropped (no text is empty), so kept example i is text i.
    CHECK(batcher.size() == static_cast<std::int64_t>(texts.size()),
          "TextClassifier: the batcher dropped texts");
    return run_classifier(model_, batcher, progress).probabilities;
  };
  const auto N = texts.size();
  const int max_length = encoding_.max_length;
  auto cropped = [max_length](std::int64_t n) {
    return max_length > 0 ? std::min<std::int64_t>(n, max_length) : n;
  };
  if (encoding_.hierarchical) {
    std::vector<DocumentExample> examples(N);
#pragma omp parallel for schedule(dynamic, 16)
    for (std::size_t i = 0; i < N; ++i) {
      examples[i] = encode_document(tokenizer_, texts[i], encoding_.limits, 0);
    }
    return predictions_of(std::move(examples), [&](const DocumentExample& e) {
      std::int64_t longest = 0;
      for (const auto& s : e.sentences)
        longest = std::max(longest, cropped(static_cast<std::int64_t>(s.size())));
      return longest * static_cast<std::int64_t>(e.sentences.size());
    });
  }
  std::vector<ClassificationExample> examples(N);
#pragma omp parallel for schedule(dynamic, 64)
  for (std::size_t i = 0; i < N; ++i) examples[i] = encode_text(tokenizer_, texts[i], 0);
  return predictions_of(std::move(examples), [&](const ClassificationExample& e) {
    return cropped(static_cast<std::int64_t>(e.tokens.size()));
  });
}

ClassifierEnsemble::ClassifierEnsemble(std::vector<const TextClassifier*> members)
    : members_(std::move(members)) {
  CHECK(!members_.empty(), "ClassifierEnsemble: no models");
  for (std::size_t m = 1; m < members_.size(); ++m) {
    CHECK(members_[m]->labels() == members_[0]->labels(), "ensemble: model ", m + 1,
          " has other classes (or another order) than model 1");
  }
}

std::vector<Prediction> ClassifierEnsemble::predict(const std::vector<std::string>& texts,
                                                    std::int64_t batch_tokens,
                                                    Progress* progress) const {
  return most_probable(probabilities(texts, batch_tokens, progress));
}

ClassProbabilities ClassifierEnsemble::probabilities(const std::vector<std::string>& texts,
                                                     std::int64_t batch_tokens,
                                                     Progress* progress) const {
  ClassProbabilities mean = members_[0]->probabilities(texts, batch_tokens, progress);
  for (std::size_t m = 1; m < members_.size(); ++m) {
    const ClassProbabilities p = members_[m]->probabilities(texts, batch_tokens, progress);
    for (std::size_t k = 0; k < mean.values.size(); ++k) mean.values[k] += p.values[k];
  }
  const float scale = 1.f / static_cast<float>(members_.size());
  for (float& v : mean.values) v *= scale;
  return mean;
}

}  // namespace heed
