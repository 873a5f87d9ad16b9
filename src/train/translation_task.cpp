// The translation task: parallel text -> SentencePiece ids -> token-budget batches -> a
// Seq2SeqModel's teacher-forced loss; validation by loss, and by BLEU, chrF and exact match of
// greedy translations (detokenized) against the raw reference lines.
#include <algorithm>

#include "heed/autograd/engine.h"
#include "heed/autograd/grad_mode.h"
#include "heed/train/model_factory.h"
#include "heed/train/task.h"
#include "heed/train/translator.h"
#include "heed/viz/model_attention.h"
#include "train/task_common.h"

namespace heed {

namespace {

using task_detail::describe_filter;
using task_detail::describe_read;

ParallelText read_split(const ParallelSplit& split, bool skip_malformed) {
  if (!split.tsv.empty()) {
    return read_tsv_pairs(split.tsv.string(), {.source_field = split.src_field,
                                               .target_field = split.tgt_field,
                                               .num_fields = split.num_fields,
                                               .skip_malformed = skip_malformed});
  }
  return read_parallel_files(split.src.string(), split.tgt.string(),
                             {.skip_malformed = skip_malformed});
}

std::string describe_split(const ParallelSplit& split) {
  return split.tsv.empty() ? split.src.string() + " + " + split.tgt.string() : split.tsv.string();
}

// Token-id pairs of a parallel text, encoded in parallel.
std::vector<TranslationExample> encode_pairs(const ParallelText& text, const Tokenizer& source,
                                             const Tokenizer& target) {
  std::vector<TranslationExample> examples(text.source.size());
#pragma omp parallel for schedule(dynamic, 64)
  for (std::size_t i = 0; i < examples.size(); ++i) {
    examples[i].source = source.encode(text.source[i]);
    examples[i].target = target.encode(text.target[i]);
  }
  return examples;
}

class TranslationTask final : public task_detail::BatchedTask<TranslationExample> {
 public:
  TranslationTask(const Config& config, const RunDir& run, bool resume, const LogFunction& log)
      : config_(config) {
    const DataConfig& data = config.data;
    const TranslationDataConfig& files = data.translation;
    TranslationText text = read_translation_text(config);
    ParallelText& train = text.train;
    ParallelText& valid = text.valid;
    log(str("train: ", describe_read(train.stats, "pairs"), " from ", describe_split(files.train)));
    if (!config.train.validates()) {
      log(task_detail::kNoValidationNote);
    } else if (data.valid_holdout > 0) {
      log(str("valid: ", valid.source.size(), " pairs held out of the training data"));
    } else {
      log(str("valid: ", describe_read(valid.stats, "pairs"), " from ",
              describe_split(files.valid)));
    }

    const TokenizerConfig& tok = data.tokenizer;
    if (tok.one_vocabulary()) {
      source_tokenizer_ = task_detail::prepare_tokenizer(
          tok, run, "spm", tok.model, {&train.source, &train.target}, resume, log);
      target_tokenizer_ = source_tokenizer_;
    } else {
      source_tokenizer_ = task_detail::prepare_tokenizer(tok, run, "src", tok.src_model,
                                                         {&train.source}, resume, log);
      target_tokenizer_ = task_detail::prepare_tokenizer(tok, run, "tgt", tok.tgt_model,
                                                         {&train.target}, resume, log);
    }

    make_train_batches(encode_pairs(train, source_tokenizer_, target_tokenizer_), config, log);

    if (config.train.validates()) build_validation(std::move(valid));

    build_ = build_seq2seq_model(config.model, source_tokenizer_.vocab_size(),
                                 target_tokenizer_.vocab_size(), config.train.seed);
    build_.model->train();
    translator_ = std::make_unique<Translator>(source_tokenizer_, target_tokenizer_, *build_.model);
  }

  Module& model() override { return *build_.model; }
  std::vector<std::pair<std::string, Rng*>> model_rngs() override { return build_.rngs; }

  TrainStep forward_backward(float label_smoothing) override {
    TranslationBatch next = train_batches_->next();
    TrainStep step;
    const std::int64_t B = next.source.size(0);
    step.slots = B * (next.source.size(1) + next.target_in.size(1));
    for (std::int64_t b = 0; b < B; ++b) {
      step.tokens += next.source_lengths.data()[b] + next.target_lengths.data()[b];
    }
    const Seq2SeqBatch batch{.src = std::move(next.source),
                             .src_lengths = std::move(next.source_lengths),
                             .tgt_in = std::move(next.target_in),
                             .tgt_out = std::move(next.target_out),
                             .tgt_lengths = std::move(next.target_lengths)};
    const Seq2SeqOutput out = build_.model->forward(batch, {.label_smoothing = label_smoothing});
    backward(out.loss);
    step.loss = out.loss.item();
    step.units = out.num_tokens;
    return step;
  }

  Validation validate() override {
    Seq2SeqModel& model = *build_.model;
    Validation v;
    {
      NoGradGuard no_grad;
      model.eval();
      double loss_sum = 0;
      std::int64_t tokens = 0;
      for (const std::vector<std::int64_t>& indices : valid_batches_->epoch_plan()) {
        TranslationBatch b = valid_batches_->collate(indices);
        const Seq2SeqOutput out = model.forward({.src = std::move(b.source),
                                                 .src_lengths = std::move(b.source_lengths),
                                                 .tgt_in = std::move(b.target_in),
                                                 .tgt_out = std::move(b.target_out),
                                                 .tgt_lengths = std::move(b.target_lengths)},
                                                {});
        loss_sum += static_cast<double>(out.loss.item()) * static_cast<double>(out.num_tokens);
        tokens += out.num_tokens;
      }
      v.metrics["loss"] = tokens > 0 ? loss_sum / static_cast<double>(tokens) : 0.0;
    }
    // Greedy decoding, the length capped relative to the source (eval.max_len_a/b).
    TranslateOptions options{.decode = {.beam_size = 1,
                                        .length_penalty = 0.f,
                                        .max_len_a = static_cast<float>(config_.eval.max_len_a),
                                        .max_len_b = config_.eval.max_len_b,
                                        .max_len = config_.eval.max_len},
                             .batch_tokens = config_.eval.batch_tokens,
                             .max_source_length = config_.eval.max_len};
    const std::vector<std::string> hypotheses = translator_->translate_ids(valid_sources_, options);
    model.train();
    const TranslationScores scores = score_translations(hypotheses, valid_references_);
    v.metrics["bleu"] = scores.bleu;
    v.metrics["chrf"] = scores.chrf;
    v.metrics["exact_match"] = scores.exact_match;
    for (std::size_t i = 0; i < std::min<std::size_t>(2, hypotheses.size()); ++i) {
      v.samples.push_back(str("src: ", valid_text_[i]));
      v.samples.push_back(str("  ref: ", valid_references_[i]));
      v.samples.push_back(str("  hyp: ", hypotheses[i]));
    }
    return v;
  }

  void write_attention(const std::filesystem::path& path, const std::string& title) override {
    viz::AttentionRunOptions options;
    options.title = title;
    options.decode = {.beam_size = 1,  // as validation decodes
                      .length_penalty = 0.f,
                      .max_len_a = static_cast<float>(config_.eval.max_len_a),
                      .max_len_b = config_.eval.max_len_b,
                      .max_len = config_.eval.max_len};
    options.max_source_length = config_.eval.max_len;
    const std::size_t n = std::min<std::size_t>(kAttentionInputs, valid_text_.size());
    viz::write_attention_page(path, *build_.model, source_tokenizer_, target_tokenizer_,
                              {valid_text_.begin(), valid_text_.begin() + n}, options);
  }

 private:
  // The validation batches (and texts, for samples and attention pages).
  void build_validation(ParallelText valid) {
    const int L = config_.data.max_length;
    std::vector<TranslationExample> valid_examples =
        encode_pairs(valid, source_tokenizer_, target_tokenizer_);
    valid_sources_.reserve(valid_examples.size());
    std::int64_t largest = 1;
    for (const TranslationExample& e : valid_examples) {
      valid_sources_.push_back(e.source);
      const auto S = static_cast<std::int64_t>(e.source.size());
      const auto T = static_cast<std::int64_t>(e.target.size()) + 1;
      largest =
          std::max(largest, L > 0 ? std::min<std::int64_t>(std::max(S, T), L) : std::max(S, T));
    }
    valid_text_ = std::move(valid.source);
    valid_references_ = std::move(valid.target);
    valid_batches_ = std::make_unique<TranslationBatcher>(
        std::move(valid_examples), task_detail::evaluation_batcher_options(config_, largest),
        Rng(0));
  }

  Config config_;
  Tokenizer source_tokenizer_, target_tokenizer_;
  std::unique_ptr<TranslationBatcher> valid_batches_;     // for the validation loss
  std::vector<std::vector<std::int32_t>> valid_sources_;  // for decoding, every line
  std::vector<std::string> valid_text_;
  std::vector<std::string> valid_references_;
  Seq2SeqModelBuild build_;
  std::unique_ptr<Translator> translator_;
};

}  // namespace

TranslationText read_translation_text(const Config& config) {
  const DataConfig& data = config.data;
  TranslationText text;
  text.train = read_split(data.translation.train, data.skip_malformed);
  if (!config.train.validates()) return text;  // every pair trains
  if (data.valid_holdout > 0) {
    Rng rng = task_detail::holdout_rng(config.holdout_seed());
    const auto held =
        task_detail::holdout_indices(static_cast<std::int64_t>(text.train.source.size()),
                                     data.valid_holdout, data.valid_holdout_block, rng,
                                     "training pairs");
    task_detail::move_indices(text.train.source, held, text.valid.source);
    task_detail::move_indices(text.train.target, held, text.valid.target);
  } else {
    text.valid = read_split(data.translation.valid, data.skip_malformed);
  }
  return text;
}

ParallelText read_translation_split(const Config& config, const std::string& split) {
  CHECK(split == "valid" || split == "test", "unknown split \"", split,
        "\" (expected \"valid\" or \"test\")");
  if (split == "valid") {
    CHECK(config.train.validates(),
          "the run trained without validation (train.valid_every 0): it has no \"valid\" split "
          "(evaluate the test split, or files with --src and --ref)");
    return read_translation_text(config).valid;
  }
  CHECK(config.data.translation.test.defined(),
        "the config has no data.test (give the files to evaluate with --src and --ref)");
  return read_split(config.data.translation.test, config.data.skip_malformed);
}

std::unique_ptr<Task> make_translation_task(const Config& config, const RunDir& run, bool resume,
                                            const LogFunction& log) {
  return std::make_unique<TranslationTask>(config, run, resume, log);
}

}  // namespace heed
