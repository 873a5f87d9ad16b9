// Building a model from the "model" section of a configuration and the sizes the data gives
// (vocabularies, classes). Each model's random streams (dropout, sampling) are returned beside it
// under the names checkpoints store them by.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "heed/models/classifier.h"
#include "heed/models/seq2seq.h"
#include "heed/tensor/rng.h"
#include "heed/train/model_config.h"

namespace heed {

using ModelRngs = std::vector<std::pair<std::string, Rng*>>;

struct Seq2SeqModelBuild {
  std::unique_ptr<Seq2SeqModel> model;
  ModelRngs rngs;  // owned by the model
};

struct ClassifierModelBuild {
  std::unique_ptr<ClassifierModel> model;
  ModelRngs rngs;
};

// Parameters are initialized from `seed`. Throws if the config is not a translation
// (classification) model.
Seq2SeqModelBuild build_seq2seq_model(const ModelConfig& config, Index src_vocab, Index tgt_vocab,
                                      std::uint64_t seed);
ClassifierModelBuild build_classifier_model(const ModelConfig& config, Index vocab,
                                            Index num_classes, std::uint64_t seed);

}  // namespace heed
