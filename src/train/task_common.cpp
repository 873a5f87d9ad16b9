// Shared task pieces: tokenizers in the run directory, held-out validation, log descriptions.
#include "train/task_common.h"

#include <algorithm>
#include <fstream>
#include <numeric>

#include "heed/util/check.h"

namespace heed::task_detail {

namespace fs = std::filesystem;

Tokenizer prepare_tokenizer(const TokenizerConfig& config, const RunDir& run,
                            const std::string& name, const fs::path& existing,
                            const std::vector<const std::vector<std::string>*>& texts, bool resume,
                            const LogFunction& log) {
  const fs::path model = run.tokenizer_dir() / (name + ".model");
  if (resume) {
    CHECK(fs::is_regular_file(model), "cannot resume ", run.root().string(), ": its tokenizer ",
          model.string(), " is missing");
    return Tokenizer::load(model.string());
  }
  if (!existing.empty()) {
    Tokenizer tokenizer = Tokenizer::load(existing.string());  // checks it before copying
    fs::copy_file(existing, model, fs::copy_options::overwrite_existing);
    log(str("tokenizer ", name, ": ", existing.string(), " (", tokenizer.vocab_size(),
            " pieces), copied to ", model.string()));
    return Tokenizer::load(model.string());
  }
  // SentencePiece reads files: the training texts go to a temporary one next to the model.
  const fs::path corpus = run.tokenizer_dir() / (name + ".train.txt");
  std::int64_t lines = 0;
  {
    std::ofstream out(corpus, std::ios::binary | std::ios::trunc);
    CHECK(out.good(), corpus.string(), ": cannot create");
    for (const std::vector<std::string>* part : texts) {
      for (const std::string& line : *part) {
        out << line << '\n';
        ++lines;
      }
    }
    CHECK(out.good(), corpus.string(), ": write failed");
  }
  log(str("tokenizer ", name, ": training a ", config.vocab_size, "-piece ",
          subword_model_name(config.type), " model (", normalization_rule_name(config.normalization),
          " normalization) on ", lines, " lines"));
  TokenizerTrainOptions options{.input_files = {corpus.string()},
                                .model_dir = run.tokenizer_dir().string(),
                                .model_name = name,
                                .model_type = config.type,
                                .normalization = config.normalization,
                                .vocab_size = config.vocab_size,
                                .character_coverage = config.character_coverage,
                                .input_sentence_size = config.input_sentence_size,
                                .seed = 1,
                                .max_sentence_length = config.max_sentence_length,
                                .num_threads = config.threads};
  try {
    Tokenizer::train(options);
  } catch (const Error& e) {
    fs::remove(corpus);
    throw Error(str(e.what(), "\n(data.tokenizer.vocab_size is ", config.vocab_size,
                    "; SentencePiece's message above says which sizes this corpus allows)"));
  }
  fs::remove(corpus);
  return Tokenizer::load(model.string());
}

Rng data_rng(std::uint64_t seed) { return Rng(seed).fork(); }

Rng holdout_rng(std::uint64_t seed) {
  Rng rng(seed);
  rng.fork();
  return rng.fork();
}

std::vector<std::int64_t> holdout_indices(std::int64_t n, std::int64_t count, std::int64_t block,
                                          Rng& rng, const std::string& what) {
  CHECK(count < n, "data.valid_holdout: ", count, " examples cannot be held out of the ", n, " of ",
        what, " (some must remain for training)");
  CHECK(block >= 1, "data.valid_holdout_block must be >= 1 (got ", block, ")");
  // Partial Fisher–Yates over the blocks [k·block, (k+1)·block): the first ones of a seeded
  // shuffle, until `count` indices are held out (the last block chosen may be cut short). With
  // block 1 these are single examples, drawn exactly as before blocks existed.
  const std::int64_t num_blocks = (n + block - 1) / block;
  std::vector<std::int64_t> blocks(static_cast<std::size_t>(num_blocks));
  std::iota(blocks.begin(), blocks.end(), 0);
  std::vector<std::int64_t> held;
  held.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; static_cast<std::int64_t>(held.size()) < count; ++i) {
    std::swap(blocks[i], blocks[rng.randint(i, num_blocks)]);
    const std::int64_t end = std::min(n, (blocks[i] + 1) * block);
    for (std::int64_t j = blocks[i] * block;
         j < end && static_cast<std::int64_t>(held.size()) < count; ++j) {
      held.push_back(j);
    }
  }
  std::sort(held.begin(), held.end());
  return held;
}

std::string describe_read(const ReadStats& stats, const std::string& unit) {
  std::string text = str(stats.examples, " ", unit);
  if (stats.skipped > 0) {
    text += str(" (", stats.skipped, stats.skipped == 1 ? " malformed line" : " malformed lines",
                " skipped",
                stats.skip_reasons.empty() ? "" : ", e.g. " + stats.skip_reasons.front(), ")");
  }
  return text;
}

std::string describe_filter(const FilterStats& stats, int max_length) {
  std::string text = str("kept ", stats.kept);
  if (stats.cropped > 0) text += str(" (", stats.cropped, " cropped to ", max_length, " tokens)");
  if (stats.dropped_overlong > 0) {
    text += str(", dropped ", stats.dropped_overlong, " longer than ", max_length, " tokens");
  }
  if (stats.dropped_empty > 0) text += str(", dropped ", stats.dropped_empty, " empty");
  return text;
}

BatcherOptions training_batcher_options(const Config& config) {
  return {.max_tokens = config.train.batch_tokens,
          .max_batch_size = config.train.max_batch_size,
          .max_length = config.data.max_length,
          .max_sentences = 0,
          .overlong = config.data.overlong,
          .bucketing = config.train.bucketing,
          .chunk_size = config.train.chunk_size,
          .shuffle = true,
          .window = config.task == TaskKind::kClassification
                        ? config.data.classification.train_window
                        : 0};
}

BatcherOptions evaluation_batcher_options(const Config& config, std::int64_t largest) {
  return {.max_tokens = std::max(config.eval.batch_tokens, largest),
          .max_batch_size = 0,
          .max_length = config.data.max_length,
          .max_sentences = 0,
          .overlong = Overlong::kCrop,
          .bucketing = Bucketing::kGlobal,
          .chunk_size = 1,
          .shuffle = false};
}

}  // namespace heed::task_detail
