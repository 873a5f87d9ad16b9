// Text in, translations out: SentencePiece encoding, batches of similar source length, greedy or
// beam decoding (models/decode.h), detokenization. Used by validation during training and by
// `heed eval` and `heed translate`; scoring with sacreBLEU's BLEU and chrF and exact match.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "heed/data/tokenizer.h"
#include "heed/models/decode.h"
#include "heed/models/seq2seq.h"
#include "heed/train/progress.h"

namespace heed {

struct TranslateOptions {
  DecodeOptions decode;
  // Rows × beam × longest source ≤ batch_tokens (at least one sentence per batch).
  std::int64_t batch_tokens = 4096;
  // Sources longer than this many tokens are cut to it (0: no limit).
  int max_source_length = 0;
};

class Translator {
 public:
  // The model is used, not owned.
  Translator(Tokenizer source, Tokenizer target, Seq2SeqModel& model);

  // One detokenized translation per source line, in order; an empty source gives "". Runs in
  // evaluation mode without gradients; `progress` (optional) advances by sentences.
  std::vector<std::string> translate(const std::vector<std::string>& sources,
                                     const TranslateOptions& options,
                                     Progress* progress = nullptr) const;
  // The same for sources already encoded (no BOS/EOS).
  std::vector<std::string> translate_ids(const std::vector<std::vector<std::int32_t>>& sources,
                                         const TranslateOptions& options,
                                         Progress* progress = nullptr) const;

  // translate() with the hard word alignment of each translation (viz/alignment.h: Marian's
  // "i-j" source-target word pairs), from the decoder's own attention of the chosen hypothesis.
  struct Aligned {
    std::string text;
    std::string alignment;
  };
  std::vector<Aligned> translate_aligned(const std::vector<std::string>& sources,
                                         const TranslateOptions& options,
                                         Progress* progress = nullptr) const;

  const Tokenizer& source_tokenizer() const { return source_; }
  const Tokenizer& target_tokenizer() const { return target_; }

 private:
  // Decodes every non-empty source (cut to max_source_length) in batches of similar length and
  // calls done(i, hypothesis, source ids as decoded) for each.
  template <typename Done>
  void decode_all(const std::vector<std::vector<std::int32_t>>& sources,
                  const TranslateOptions& options, Progress* progress, Done done) const;

  Tokenizer source_;
  Tokenizer target_;
  Seq2SeqModel& model_;
};

// Corpus scores of detokenized hypotheses against raw references (sacreBLEU's defaults).
struct TranslationScores {
  double bleu = 0;         // 0..100
  double chrf = 0;         // 0..100
  double exact_match = 0;  // fraction of hypotheses equal to their reference (outer spaces trimmed)
  std::string bleu_signature;
  std::string chrf_signature;
};

// The lists must have the same length. Empty references are left out of BLEU and chrF (which
// reject them) but count for exact match.
TranslationScores score_translations(const std::vector<std::string>& hypotheses,
                                     const std::vector<std::string>& references);

}  // namespace heed
