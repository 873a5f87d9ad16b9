// Models from their config (model_factory.h).
#include "heed/train/model_factory.h"

#include "heed/models/classifiers.h"
#include "heed/models/rnn_seq2seq.h"
#include "heed/models/transformer.h"
#include "heed/util/check.h"

namespace heed {

Seq2SeqModelBuild build_seq2seq_model(const ModelConfig& config, Index src_vocab, Index tgt_vocab,
                                      std::uint64_t seed) {
  Seq2SeqModelBuild build;
  if (const auto* options = std::get_if<TransformerSeq2SeqOptions>(&config.options)) {
    TransformerSeq2SeqOptions o = *options;
    o.src_vocab = src_vocab;
    o.tgt_vocab = tgt_vocab;
    auto model = std::make_unique<TransformerSeq2Seq>(o, seed);
    build.rngs = {{"dropout", &model->dropout_rng()}};
    build.model = std::move(model);
    return build;
  }
  if (const auto* options = std::get_if<RnnSeq2SeqOptions>(&config.options)) {
    RnnSeq2SeqOptions o = *options;
    o.src_vocab = src_vocab;
    o.tgt_vocab = tgt_vocab;
    auto model = std::make_unique<RnnSeq2Seq>(o, seed);
    build.rngs = {{"dropout", &model->dropout_rng()}};
    build.model = std::move(model);
    return build;
  }
  CHECK(false, "model.type: \"", to_string(config.type), "\" is not a translation model");
  return build;
}

namespace {

template <typename Model, typename Options>
ClassifierModelBuild make_classifier(Options options, Index vocab, Index num_classes,
                                     std::uint64_t seed) {
  options.vocab = vocab;
  options.num_classes = num_classes;
  auto model = std::make_unique<Model>(options, seed);
  ClassifierModelBuild build;
  build.rngs = {{"dropout", &model->dropout_rng()}};
  build.model = std::move(model);
  return build;
}

}  // namespace

ClassifierModelBuild build_classifier_model(const ModelConfig& config, Index vocab,
                                            Index num_classes, std::uint64_t seed) {
  if (const auto* o = std::get_if<TransformerClassifierOptions>(&config.options)) {
    return make_classifier<TransformerClassifier>(*o, vocab, num_classes, seed);
  }
  if (const auto* o = std::get_if<BiGruAttentionOptions>(&config.options)) {
    return make_classifier<BiGruAttentionClassifier>(*o, vocab, num_classes, seed);
  }
  if (const auto* o = std::get_if<HierarchicalAttentionOptions>(&config.options)) {
    return make_classifier<HierarchicalAttentionNetwork>(*o, vocab, num_classes, seed);
  }
  CHECK(false, "model.type: \"", to_string(config.type), "\" is not a classification model");
  return {};
}

}  // namespace heed
