// Tokenizer: subword tokenization with a SentencePiece model (Kudo & Richardson, 2018).
//
// A thin wrapper: train a unigram-LM (Kudo, 2018) or BPE (Sennrich et al., 2016) model from
// text files, load a `.model`, and map text <-> ids. SentencePiece treats the text as a raw
// character stream (spaces become the piece prefix "▁"), so decode(encode(text)) gives back the
// (NFKC-normalized, whitespace-collapsed) text without a separate detokenizer.
//
// Every heed model reserves the ids of special_ids.h (pad 0, unk 1, bos 2, eos 3); encode() never
// adds BOS/EOS — the batcher does that — and decode() drops pad/bos/eos.
//
// A Tokenizer is a cheap shared handle; all its methods are const and safe to call from several
// threads at once.
//
//   TokenizerTrainOptions o{.input_files = {"train.de.gz", "train.en.gz"},
//                           .model_dir = "runs/m30k", .model_name = "spm8k", .vocab_size = 8000};
//   Tokenizer tok = Tokenizer::load(Tokenizer::train(o));   // runs/m30k/spm8k.model
//   std::vector<std::int32_t> ids = tok.encode("Ein Hund läuft.");
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "heed/tensor/special_ids.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace heed {

// kWord: SentencePiece's word model — whitespace-separated words, the vocab_size most frequent
// (the others map to <unk>); for text that is already tokenized (SST's sentences).
enum class SubwordModel { kUnigram, kBpe, kWord };
const char* subword_model_name(SubwordModel model);  // "unigram", "bpe", "word"

// SentencePiece's built-in normalization rules, applied to the text before training and before
// every encode (the rule is stored in the model, so a run's later translate/classify use it
// too). kNmtNfkc, SentencePiece's default: NFKC plus folding unusual spaces and control
// characters. The case-folding variants also lower-case the text (Unicode case folding), so
// "Great" and "great" are one piece and decode() returns lower-case text.
enum class TextNormalization { kNmtNfkc, kNfkc, kNmtNfkcCaseFold, kNfkcCaseFold, kIdentity };
// SentencePiece's names: "nmt_nfkc", "nfkc", "nmt_nfkc_cf", "nfkc_cf", "identity".
const char* normalization_rule_name(TextNormalization rule);

struct TokenizerTrainOptions {
  // Plain or gzip text, one sentence per line (read with the readers' line reader).
  std::vector<std::string> input_files;
  std::string model_dir;  // must exist; receives <model_name>.model and .vocab
  std::string model_name = "spm";
  SubwordModel model_type = SubwordModel::kUnigram;
  TextNormalization normalization = TextNormalization::kNmtNfkc;
  int vocab_size = 8000;
  // Fraction of characters the model must cover; the rarest rest maps to <unk>. 1.0 suits
  // alphabetic languages, 0.9995 is SentencePiece's choice for large character sets (CJK).
  double character_coverage = 1.0;
  // Train on a random sample of this many lines (0: all lines) — for large corpora.
  std::int64_t input_sentence_size = 0;
  std::uint64_t seed = 1;  // of that sample (heed::Rng)
  // Lines longer than this (in bytes) are left out of training (SentencePiece's default: 4192).
  int max_sentence_length = 4192;
  // Training is deterministic for given inputs, options and num_threads; a different thread
  // count gives a slightly different model.
  int num_threads = 1;
};

class Tokenizer {
 public:
  // Trains a model and returns the path of the written `.model` file. Errors name the input
  // files and the model path.
  static std::string train(const TokenizerTrainOptions& options);
  // Loads a `.model`; throws naming the file if it cannot be read or its special ids are not
  // heed's (pad 0, unk 1, bos 2, eos 3).
  static Tokenizer load(const std::string& model_path);

  Tokenizer() = default;  // empty: every method but loaded() throws

  bool loaded() const { return processor_ != nullptr; }
  const std::string& model_path() const { return model_path_; }
  int vocab_size() const;

  // Text -> ids in [0, vocab_size), without BOS/EOS.
  std::vector<std::int32_t> encode(std::string_view text) const;
  // Text -> pieces ("▁Ein", "▁Hund", ...), e.g. as labels of an attention plot.
  std::vector<std::string> encode_pieces(std::string_view text) const;
  // Ids -> detokenized text; pad/bos/eos are dropped. Throws for an id outside [0, vocab_size).
  std::string decode(const std::vector<std::int32_t>& ids) const;

  std::string id_to_piece(std::int32_t id) const;
  // The id of `piece`, or kUnkId if the vocabulary has no such piece.
  std::int32_t piece_to_id(std::string_view piece) const;

 private:
  const sentencepiece::SentencePieceProcessor& processor(const char* method) const;

  std::shared_ptr<const sentencepiece::SentencePieceProcessor> processor_;
  std::string model_path_;
};

}  // namespace heed
