// Models from their config (model_factory.h).
#include "heed/train/model_factory.h"

#include "heed/models/classifiers.h"
#include "heed/models/rnn_seq2seq.h"
#include "heed/models/transformer.h"
#include "heed/util/check.h"

namespace heed {

namespace {

// A Model of `options`, with its random streams (saved in checkpoints).
template <typename Model, typename Build, typename Options>
Build make_model(const Options& options, std::uint64_t seed) {
  auto model = std::make_unique<Model>(options, seed);
  Build build;
  build.rngs = {{"dropout", &model->dropout_rng()}};
  build.model = std::move(model);
  return build;
}

template <typename Model, typename Options>
Seq2SeqModelBuild make_seq2seq(Options options, Index src_vocab, Index tgt_vocab,
                               std::uint64_t seed) {
  options.src_vocab = src_vocab;
  options.tgt_vocab = tgt_vocab;
  return make_model<Model, Seq2SeqModelBuild>(options, seed);
}

template <typename Model, typename Options>
ClassifierModelBuild make_classifier(Options options, Index vocab, Index num_classes,
                                     std::uint64_t seed) {
  options.vocab = vocab;
  options.num_classes = num_classes;
  return make_model<Model, ClassifierModelBuild>(options, seed);
}

}  // namespace

Seq2SeqModelBuild build_seq2seq_model(const ModelConfig& config, Index src_vocab, Index tgt_vocab,
                                      std::uint64_t seed) {
  if (const auto* o = std::get_if<TransformerSeq2SeqOptions>(&config.options)) {
    return make_seq2seq<TransformerSeq2Seq>(*o, src_vocab, tgt_vocab, seed);
  }
  if (const auto* o = std::get_if<RnnSeq2SeqOptions>(&config.options)) {
    return make_seq2seq<RnnSeq2Seq>(*o, src_vocab, tgt_vocab, seed);
  }
  CHECK(false, "model.type: \"", to_string(config.type), "\" is not a translation model");
  return {};
}

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
