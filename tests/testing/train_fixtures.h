// Tiny training setups for the trainer and command-line tests: slices of the quickstart data
// written into a test's directory, and configs that train on them in seconds on one thread.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "heed/data/readers.h"

namespace heed::testing {

inline std::filesystem::path source_dir() { return HEED_SOURCE_DIR; }

// The first `n` lines of a (plain or gzip) text file, written as plain text to `to`.
inline void write_head(const std::filesystem::path& from, const std::filesystem::path& to,
                       std::size_t n) {
  const std::vector<std::string> lines = read_lines(from.string());
  if (lines.size() < n) throw std::runtime_error(from.string() + ": fewer lines than asked");
  std::ofstream out(to, std::ios::binary);
  for (std::size_t i = 0; i < n; ++i) out << lines[i] << '\n';
}

inline std::filesystem::path write_config(const std::filesystem::path& dir,
                                          const nlohmann::json& config,
                                          const std::string& name = "config.json") {
  const std::filesystem::path path = dir / name;
  std::ofstream(path) << config.dump(2);
  return path;
}

// Dates -> ISO on 2000 training and 200 validation pairs: a 90k-parameter Transformer that gets
// about half of the validation dates exactly right after 400 steps (a few seconds).
inline nlohmann::json tiny_translation_config(const std::filesystem::path& dir) {
  const std::filesystem::path dates = source_dir() / "data" / "dates";
  write_head(dates / "train.src", dir / "train.src", 2000);
  write_head(dates / "train.tgt", dir / "train.tgt", 2000);
  write_head(dates / "dev.src", dir / "dev.src", 200);
  write_head(dates / "dev.tgt", dir / "dev.tgt", 200);
  return nlohmann::json::parse(R"({
    "task": "translation",
    "run_dir": "run",
    "data": {
      "train": {"src": "train.src", "tgt": "train.tgt"},
      "valid": {"src": "dev.src", "tgt": "dev.tgt"},
      "max_length": 64,
      "tokenizer": {"vocab_size": 80}
    },
    "model": {"type": "transformer", "d_model": 64, "num_heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "dim_feedforward": 128, "dropout": 0.1, "max_len": 128},
    "train": {
      "batch_tokens": 1024, "max_steps": 400,
      "optimizer": {"lr": 0.003, "betas": [0.9, 0.98]},
      "schedule": {"type": "inverse_sqrt", "warmup_steps": 100},
      "label_smoothing": 0.1, "log_every": 20, "valid_every": 200,
      "early_stopping": {"metric": "exact_match"},
      "threads": 1
    },
    "eval": {"beam": 2, "max_len_a": 0, "max_len_b": 24, "max_len": 32}
  })");
}

// Synthetic reviews -> positive/negative on 3000 training and 300 validation reviews with a
// small BiGRU + attention pooling.
inline nlohmann::json tiny_classification_config(const std::filesystem::path& dir) {
  const std::filesystem::path reviews = source_dir() / "data" / "reviews";
  write_head(reviews / "train.tsv", dir / "train.tsv", 3001);  // + the header line
  write_head(reviews / "dev.tsv", dir / "dev.tsv", 301);
  return nlohmann::json::parse(R"({
    "task": "classification",
    "run_dir": "run",
    "data": {
      "train": "train.tsv", "valid": "dev.tsv",
      "label_column": "label", "text_column": "text",
      "max_length": 64,
      "tokenizer": {"vocab_size": 200}
    },
    "model": {"type": "bigru_attention", "embedding_dim": 32, "hidden": 32, "attention_dim": 32,
              "dropout": 0.2},
    "train": {
      "batch_tokens": 1024, "max_steps": 300,
      "optimizer": {"lr": 0.003},
      "log_every": 20, "valid_every": 100,
      "threads": 1
    }
  })");
}

}  // namespace heed::testing
