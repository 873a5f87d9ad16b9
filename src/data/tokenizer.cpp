// Tokenizer: SentencePiece training and encoding (see tokenizer.h).
//
// Training streams the input files through LineReader into SentencePiece's SentenceIterator
// interface, so inputs may be gzip-compressed and paths may contain commas (SentencePiece's own
// `--input` flag is a comma-separated list of plain files). Nothing else in unigram or BPE
// training is random, so for given inputs, options and num_threads the model is deterministic.
#include "heed/data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <exception>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include "data/line_reader.h"
#include "heed/tensor/rng.h"
#include "heed/util/check.h"

namespace heed {
namespace {

namespace spm = sentencepiece;
using data_internal::LineReader;

std::string join_paths(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& p : paths) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// Feeds SentencePiece the lines of several files, one after the other. Read errors are handed
// back through status() (exceptions must not unwind through SentencePiece's C++ code).
class FileSentenceIterator : public spm::SentenceIterator {
 public:
  explicit FileSentenceIterator(const std::vector<std::string>& paths) : paths_(paths) { Next(); }

  bool done() const override { return done_; }
  const std::string& value() const override { return line_; }
  spm::util::Status status() const override { return status_; }

  void Next() override {
    try {
      while (true) {
        if (reader_ && reader_->next(line_)) return;
        if (file_index_ == paths_.size()) {
          done_ = true;
          return;
        }
        reader_.emplace(paths_[file_index_++]);
      }
    } catch (const std::exception& e) {
      status_ = spm::util::Status(spm::util::StatusCode::kInternal, e.what());
      done_ = true;
    }
  }

 private:
  const std::vector<std::string>& paths_;
  size_t file_index_ = 0;
  std::optional<LineReader> reader_;
  std::string line_;
  bool done_ = false;
  spm::util::Status status_;
};

// Feeds SentencePiece sentences held in memory.
class VectorSentenceIterator : public spm::SentenceIterator {
 public:
  explicit VectorSentenceIterator(const std::vector<std::string>& sentences)
      : sentences_(sentences) {}

  bool done() const override { return index_ >= sentences_.size(); }
  const std::string& value() const override { return sentences_[index_]; }
  spm::util::Status status() const override { return {}; }
  void Next() override { ++index_; }

 private:
  const std::vector<std::string>& sentences_;
  size_t index_ = 0;
};

// A uniform random sample of `size` of the lines SentencePiece would train on (non-empty, at most
// max_sentence_length bytes), by reservoir sampling (Vitter's algorithm R) with Rng(seed).
// SentencePiece's own --input_sentence_size sampler has a fixed, built-in seed; this one makes
// the sample depend on the options' seed.
std::vector<std::string> sample_lines(const TokenizerTrainOptions& options) {
  const auto size = static_cast<size_t>(options.input_sentence_size);
  Rng rng(options.seed);
  std::vector<std::string> sample;
  sample.reserve(size);
  std::int64_t seen = 0;
  std::string line;
  for (const std::string& path : options.input_files) {
    LineReader reader(path);
    while (reader.next(line)) {
      if (line.empty() || line.size() > static_cast<size_t>(options.max_sentence_length)) continue;
      if (sample.size() < size) {
        sample.push_back(line);
      } else if (const std::int64_t j = rng.randint(0, seen + 1);
                 j < static_cast<std::int64_t>(size)) {
        sample[j] = line;
      }
      ++seen;
    }
  }
  return sample;
}

}  // namespace

const char* normalization_rule_name(TextNormalization rule) {
  switch (rule) {
    case TextNormalization::kNmtNfkc: return "nmt_nfkc";
    case TextNormalization::kNfkc: return "nfkc";
    case TextNormalization::kNmtNfkcCaseFold: return "nmt_nfkc_cf";
    case TextNormalization::kNfkcCaseFold: return "nfkc_cf";
    case TextNormalization::kIdentity: return "identity";
  }
  return "?";
}

const char* subword_model_name(SubwordModel model) {
  switch (model) {
    case SubwordModel::kUnigram: return "unigram";
    case SubwordModel::kBpe: return "bpe";
    case SubwordModel::kWord: return "word";
  }
  return "?";
}

std::string Tokenizer::train(const TokenizerTrainOptions& options) {
  const std::string inputs = join_paths(options.input_files);
  CHECK(!options.input_files.empty(), "Tokenizer::train: no input files");
  CHECK(std::filesystem::is_directory(options.model_dir), "Tokenizer::train: model_dir '",
        options.model_dir, "' is not an existing directory");
  CHECK(!options.model_name.empty() && options.model_name.find('/') == std::string::npos,
        "Tokenizer::train: model_name must be a plain file name (got '", options.model_name, "')");
  CHECK(options.vocab_size > kEosId + 1, "Tokenizer::train: vocab_size must exceed the ",
        kEosId + 1, " special ids (got ", options.vocab_size, ")");
  CHECK(options.character_coverage > 0.0 && options.character_coverage <= 1.0,
        "Tokenizer::train: character_coverage must be in (0, 1] (got ", options.character_coverage,
        ")");
  CHECK(options.input_sentence_size >= 0 && options.max_sentence_length > 0 &&
            options.num_threads > 0,
        "Tokenizer::train: input_sentence_size must be >= 0, max_sentence_length and "
        "num_threads > 0 (got ",
        options.input_sentence_size, ", ", options.max_sentence_length, ", ", options.num_threads,
        ")");
  for (const std::string& path : options.input_files) {
    CHECK(std::filesystem::is_regular_file(path), "Tokenizer::train: input file ", path,
          " does not exist");
  }

  const std::string prefix =
      (std::filesystem::path(options.model_dir) / options.model_name).string();
  const std::unordered_map<std::string, std::string> args = {
      {"model_prefix", prefix},
      {"model_type", subword_model_name(options.model_type)},
      {"normalization_rule_name", normalization_rule_name(options.normalization)},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"num_threads", std::to_string(options.num_threads)},
      {"pad_id", std::to_string(kPadId)},
      {"unk_id", std::to_string(kUnkId)},
      {"bos_id", std::to_string(kBosId)},
      {"eos_id", std::to_string(kEosId)},
      {"pad_piece", "<pad>"},
      {"minloglevel", "1"},  // warnings and errors only, no per-iteration progress
  };

  spm::util::Status status;
  if (options.input_sentence_size > 0) {
    const std::vector<std::string> sample = sample_lines(options);
    VectorSentenceIterator sentences(sample);
    status = spm::SentencePieceTrainer::Train(args, &sentences);
  } else {
    FileSentenceIterator sentences(options.input_files);
    status = spm::SentencePieceTrainer::Train(args, &sentences);
    if (status.ok()) status = sentences.status();
  }
  CHECK(status.ok(), "Tokenizer::train: training ", prefix, ".model from ", inputs,
        " failed: ", status.ToString());
  return prefix + ".model";
}

Tokenizer Tokenizer::load(const std::string& model_path) {
  auto processor = std::make_shared<spm::SentencePieceProcessor>();
  const spm::util::Status status = processor->Load(model_path);
  CHECK(status.ok(), "Tokenizer::load: cannot load ", model_path, ": ", status.ToString());
  CHECK(processor->pad_id() == kPadId && processor->unk_id() == kUnkId &&
            processor->bos_id() == kBosId && processor->eos_id() == kEosId,
        "Tokenizer::load: ", model_path, " has special ids pad=", processor->pad_id(),
        " unk=", processor->unk_id(), " bos=", processor->bos_id(), " eos=", processor->eos_id(),
        "; heed needs pad=", kPadId, " unk=", kUnkId, " bos=", kBosId, " eos=", kEosId,
        " (train it with Tokenizer::train or spm_train --pad_id=0 --unk_id=1 "
        "--bos_id=2 --eos_id=3)");
  Tokenizer tokenizer;
  tokenizer.processor_ = std::move(processor);
  tokenizer.model_path_ = model_path;
  return tokenizer;
}

const spm::SentencePieceProcessor& Tokenizer::processor(const char* method) const {
  CHECK(processor_ != nullptr, "Tokenizer::", method, ": no model loaded");
  return *processor_;
}

int Tokenizer::vocab_size() const { return processor("vocab_size").GetPieceSize(); }

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  const spm::util::Status status = processor("encode").Encode(text, &ids);
  CHECK(status.ok(), "Tokenizer::encode (", model_path_, "): ", status.ToString());
  return {ids.begin(), ids.end()};
}

std::vector<std::string> Tokenizer::encode_pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  const spm::util::Status status = processor("encode_pieces").Encode(text, &pieces);
  CHECK(status.ok(), "Tokenizer::encode_pieces (", model_path_, "): ", status.ToString());
  return pieces;
}

std::string Tokenizer::decode(const std::vector<std::int32_t>& ids) const {
  const int vocab = vocab_size();
  for (size_t i = 0; i < ids.size(); ++i) {
    CHECK(ids[i] >= 0 && ids[i] < vocab, "Tokenizer::decode: id ", ids[i], " at position ", i,
          " is outside the vocabulary [0, ", vocab, ") of ", model_path_);
  }
  std::string text;
  const spm::util::Status status =
      processor("decode").Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  CHECK(status.ok(), "Tokenizer::decode (", model_path_, "): ", status.ToString());
  return text;
}

std::string Tokenizer::id_to_piece(std::int32_t id) const {
  const int vocab = vocab_size();
  CHECK(id >= 0 && id < vocab, "Tokenizer::id_to_piece: id ", id, " is outside the vocabulary [0, ",
        vocab, ") of ", model_path_);
  return processor("id_to_piece").IdToPiece(id);
}

std::int32_t Tokenizer::piece_to_id(std::string_view piece) const {
  return processor("piece_to_id").PieceToId(piece);
}

}  // namespace heed
