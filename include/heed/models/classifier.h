// The interface every classification model implements (Transformer encoder classifier,
// BiGRU + self-attention pooling, hierarchical attention network).
#pragma once

#include <functional>

#include "heed/models/attention_map.h"
#include "heed/nn/module.h"

namespace heed {

// A padded batch of token sequences. For the hierarchical model, every document is a sequence
// of sentences: ids [B, N, L] (N sentences of L tokens) with sentence_lengths [B, N] (0 for
// padding sentences) and num_sentences [B].
struct ClassifierBatch {
  IntTensor ids;               // [B, T] or [B, N, L]
  IntTensor lengths;           // [B] tokens per example (flat models)
  IntTensor sentence_lengths;  // [B, N] (hierarchical only)
  IntTensor num_sentences;     // [B] (hierarchical only)
  IntTensor labels;            // [B] class ids (may be undefined when predicting)
  // Applied to the word embeddings the model looks up, [rows, tokens, E] (rows: the examples,
  // or the hierarchical model's sentences), before embedding dropout; empty: nothing. Adversarial
  // training (train/adversarial.h) moves the embeddings through it.
  std::function<Tensor(const Tensor&)> perturb_embeddings;
};

struct ClassifierOutput {
  Tensor logits;  // [B, C]
  AttentionMaps attention;
};

class ClassifierModel : public Module {
 public:
  virtual ClassifierOutput forward(const ClassifierBatch& batch, bool return_attention) = 0;
  virtual Index num_classes() const = 0;
};

}  // namespace heed
