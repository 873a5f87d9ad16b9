// Text in, classes out: SentencePiece encoding (for the hierarchical model, sentence splitting
// first), length-sorted batches, the classifier's logits, softmax. Used by validation during
// training and by `heed eval` and `heed classify`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "heed/data/batcher.h"
#include "heed/data/sentence_split.h"
#include "heed/data/tokenizer.h"
#include "heed/models/classifier.h"
#include "heed/train/progress.h"

namespace heed {

// How a text becomes model input.
struct TextEncoding {
  bool hierarchical = false;  // a document of sentences (ids [N, W]) instead of one sequence
  DocumentLimits limits;      // hierarchical: sentences per document, words per sentence
  int max_length = 0;         // tokens per text / per sentence; longer ones are cropped (0: all)
};

// A text as token ids (flat models). An empty text becomes one <unk>, so that every text gets a
// prediction.
ClassificationExample encode_text(const Tokenizer& tokenizer, std::string_view text,
                                  std::int32_t label);
// A text as sentences of token ids (hierarchical models); empty sentences are dropped, and a text
// without any becomes one sentence of one <unk>.
DocumentExample encode_document(const Tokenizer& tokenizer, std::string_view text,
                                const DocumentLimits& limits, std::int32_t label);

// The model's input for a batch (the tensors are shared, not copied).
ClassifierBatch to_classifier_batch(ClassificationBatch batch);
ClassifierBatch to_classifier_batch(DocumentBatch batch);

struct Prediction {
  std::int32_t label = 0;   // class id (into the label names)
  float probability = 0.f;  // its softmax probability
};

// Class probabilities of N texts, [N, classes] row-major.
struct ClassProbabilities {
  std::int64_t classes = 0;
  std::vector<float> values;

  std::int64_t size() const {
    return classes > 0 ? static_cast<std::int64_t>(values.size()) / classes : 0;
  }
  const float* row(std::int64_t i) const { return values.data() + i * classes; }
};
// Each row's most probable class (the first on ties) and its probability.
std::vector<Prediction> most_probable(const ClassProbabilities& probabilities);

class TextClassifier {
 public:
  // The model is used, not owned. `labels` are the class names, class id = position.
  TextClassifier(Tokenizer tokenizer, ClassifierModel& model, std::vector<std::string> labels,
                 TextEncoding encoding);

  // One prediction per text, in order. Runs in evaluation mode without gradients; batches hold
  // at most batch_tokens token slots (at least one text).
  std::vector<Prediction> predict(const std::vector<std::string>& texts, std::int64_t batch_tokens,
                                  Progress* progress = nullptr) const;
  // The softmax probabilities behind predict(), one row per text.
  ClassProbabilities probabilities(const std::vector<std::string>& texts,
                                   std::int64_t batch_tokens, Progress* progress = nullptr) const;

  const std::vector<std::string>& labels() const { return labels_; }
  const TextEncoding& encoding() const { return encoding_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  Tokenizer tokenizer_;
  ClassifierModel& model_;
  std::vector<std::string> labels_;
  TextEncoding encoding_;
};

// An ensemble: the mean of the members' class probabilities (each member reads the texts with
// its own tokenizer and encoding), then the most probable class. Models trained from different
// seeds err on different texts, so their mean is usually more accurate than any one of them.
// The members must have the same class names in the same order; one member is that model.
class ClassifierEnsemble {
 public:
  explicit ClassifierEnsemble(std::vector<const TextClassifier*> members);

  std::vector<Prediction> predict(const std::vector<std::string>& texts, std::int64_t batch_tokens,
                                  Progress* progress = nullptr) const;
  ClassProbabilities probabilities(const std::vector<std::string>& texts,
                                   std::int64_t batch_tokens, Progress* progress = nullptr) const;

  const std::vector<std::string>& labels() const { return members_.front()->labels(); }
  std::size_t size() const { return members_.size(); }

 private:
  std::vector<const TextClassifier*> members_;
};

// Loss and predictions of a classifier over every batch of a non-shuffling batcher's epoch, in
// evaluation mode without gradients; for validation and `heed eval`.
struct ClassifierRun {
  double loss = 0;                      // mean cross-entropy over the examples
  std::vector<std::int32_t> predicted;  // by kept-example index of the batcher
  std::vector<std::int32_t> gold;
  ClassProbabilities probabilities;  // softmax, by kept-example index
};
ClassifierRun run_classifier(ClassifierModel& model, const ClassificationBatcher& batcher,
                             Progress* progress = nullptr);
ClassifierRun run_classifier(ClassifierModel& model, const DocumentBatcher& batcher,
                             Progress* progress = nullptr);

}  // namespace heed
