// The "model" section of a configuration: a model type and that model's own options struct,
// whose field names are the config keys (the vocabulary sizes and the class count come from the
// data, not from the config). model_factory.h builds the model from it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "heed/models/classifiers.h"
#include "heed/models/rnn_seq2seq.h"
#include "heed/models/transformer.h"

namespace heed {

class ConfigReader;

enum class TaskKind { kTranslation, kClassification };
const char* to_string(TaskKind task);

enum class ModelType {
  kTransformer,            // translation: TransformerSeq2Seq (models/transformer.h)
  kRnn,                    // translation: RnnSeq2Seq, Bahdanau or Luong attention
  kTransformerClassifier,  // classification: Transformer encoder + pooling
  kBiGruAttention,         // classification: BiGRU + attention pooling
  kHan,                    // classification: hierarchical attention network (documents)
};

const char* to_string(ModelType type);
bool is_translation_model(ModelType type);
bool is_hierarchical_model(ModelType type);

// The options of model.type (its vocabulary and class sizes are filled in by the factory).
using ModelOptions =
    std::variant<TransformerSeq2SeqOptions, RnnSeq2SeqOptions, TransformerClassifierOptions,
                 BiGruAttentionOptions, HierarchicalAttentionOptions>;

struct ModelConfig {
  ModelType type = ModelType::kTransformer;
  ModelOptions options;

  // model.type alone (read first: the data section depends on it).
  static ModelType read_type(ConfigReader& model);
  // The options of `type` (model.type already read). `one_vocabulary`: the tokenizer gives
  // source and target one vocabulary (the default of a Transformer's shared_vocab).
  static ModelConfig from_json(ConfigReader& model, ModelType type, bool one_vocabulary);
  nlohmann::json to_json() const;
  // The model fits the task and the vocabularies; rules between its keys.
  void validate(TaskKind task, bool one_vocabulary) const;
};

}  // namespace heed
