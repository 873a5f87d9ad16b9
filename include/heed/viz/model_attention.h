// Running a model to look at its attention: the pages of `heed attention`, the pages a trainer
// writes at validation (write_attention_page), and the alignments of `heed translate
// --alignment`.
//
// Translation: each source line is encoded (no BOS/EOS, as in training), decoded (greedy or beam
// search, models/decode.h), then run once more with teacher forcing on the produced output —
// decoder input <s> y1..yn, targets y1..yn </s> — with return_attention. That second pass yields
// every attention map of the model for exactly the output shown (for the Transformer every layer
// and head of the encoder self-, decoder self- and cross-attention; for an RNN its one attention
// matrix). The alignment comes from the decoder's own per-step attention (Hypothesis::attention:
// the last layer's cross-attention averaged over heads for the Transformer).
//
// Classification: each text is encoded as train/text_classifier.h does (the whole text, or
// split into sentences for the hierarchical model; cropped to max_length tokens; an empty text
// becomes one <unk>), run with return_attention, and the class probabilities (softmax) shown.
//
// The model runs in evaluation mode without gradients, one input at a time; its mode is restored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "heed/data/sentence_split.h"
#include "heed/data/tokenizer.h"
#include "heed/models/classifier.h"
#include "heed/models/decode.h"
#include "heed/models/seq2seq.h"
#include "heed/viz/attention_page.h"

namespace heed::viz {

struct AttentionRunOptions {
  LabelOptions labels;
  DecodeOptions decode;       // translation (the run asks for the hypothesis' attention itself)
  int max_source_length = 0;  // translation: longer sources are cut to this many tokens (0: all)
  // Heatmaps with an axis longer than this are left out of the page (a page holds every layer ×
  // head, and grows with tokens²: a 512-token review's self-attention alone is ~16 MB); a note
  // says so. Pooling weights are always kept. 0: no limit.
  int max_heatmap_tokens = 400;
  std::string title = "heed attention";
  std::vector<std::string> notes = {};  // added after the notes the run writes (labels, decoding)
};

// How a classifier reads text, and its class names (mirrors train/text_classifier.h's
// TextEncoding).
struct ClassifierSetup {
  std::vector<std::string> class_names;  // by class id; size = the model's num_classes()
  bool hierarchical = false;             // documents of sentences (HAN)
  DocumentLimits limits;                 // hierarchical: sentences kept, words per sentence
  int max_length = 0;                    // tokens per text / per sentence (0: all)
};

// The tokens of a source given as ids (special ids flagged).
TokenAxis token_axis(const Tokenizer& tokenizer, const std::vector<std::int32_t>& ids);

AttentionPage translation_attention_page(Seq2SeqModel& model, const Tokenizer& source,
                                         const Tokenizer& target,
                                         const std::vector<std::string>& sentences,
                                         const AttentionRunOptions& options);

// `gold` (optional): a class id per text, shown beside the prediction.
AttentionPage classification_attention_page(ClassifierModel& model, const Tokenizer& tokenizer,
                                            const ClassifierSetup& setup,
                                            const std::vector<std::string>& texts,
                                            const AttentionRunOptions& options,
                                            const std::vector<int>& gold = {});

// The page of `sentences` / `texts`, written to `path` (for a trainer's validation hook:
// RUN_DIR/attention/step_<N>.html for a few fixed validation inputs).
void write_attention_page(const std::filesystem::path& path, Seq2SeqModel& model,
                          const Tokenizer& source, const Tokenizer& target,
                          const std::vector<std::string>& sentences,
                          const AttentionRunOptions& options);
void write_attention_page(const std::filesystem::path& path, ClassifierModel& model,
                          const Tokenizer& tokenizer, const ClassifierSetup& setup,
                          const std::vector<std::string>& texts,
                          const AttentionRunOptions& options);

// The hard word alignment (alignment.h) of a decoded hypothesis whose attention was kept
// (DecodeOptions::return_attention), given its source ids: "0-0 1-2 ...". Empty for an empty
// hypothesis.
std::string hypothesis_alignment(const Hypothesis& hypothesis,
                                 const std::vector<std::int32_t>& source_ids,
                                 const Tokenizer& source, const Tokenizer& target);

}  // namespace heed::viz
