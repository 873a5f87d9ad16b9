// What an attention page shows for one input, independent of how it is drawn: heatmap groups
// (every layer × head of one attention type, on labelled axes), pooling weights over tokens, and
// a classifier's scores. Built from a model's AttentionMaps (models/attention_map.h) and the
// tokens of the input and output.
//
// Which tokens label which axis (heed's models name and shape their maps this way):
//   translation  "cross"                   rows: produced tokens y1..yn </s> (the row is the
//                                          attention used to predict that token); columns: the
//                                          source tokens
//                "self", name "encoder.*"  source × source
//                "self", name "decoder.*"  decoder input <s> y1..yn on both axes (causal: a row
//                                          sees its own and earlier positions)
//   classifier   "self"                    tokens × tokens
//                "pool"                    weights over the tokens [B, T]
//                "word" / "sentence"       hierarchical: word weights inside each sentence
//                                          [B, N, L], sentence weights [B, N]
// Maps of [B, H, T, S] give H heads; [B, T, S] one. Each matrix is cut to the example's real
// tokens (padding dropped), then relabelled and merged per LabelOptions (tokens.h).
#pragma once

#include <string>
#include <vector>

#include "heed/models/attention_map.h"
#include "heed/viz/tokens.h"

namespace heed::viz {

// One attention type across layers, e.g. the cross-attention of every decoder layer.
struct HeatmapGroup {
  std::string id;     // the maps' name with the layer index as '*': "decoder.layers.*.self_attn"
  std::string title;  // "Cross-attention", "Encoder self-attention", ...
  std::string kind;   // the maps' kind ("cross", "self")
  std::string row_title, col_title;  // what the axes hold: "output", "source", ...
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::string> layer_names;  // the maps' names, by layer
  int heads = 1;
  std::vector<Matrix> matrices;  // layer-major: matrices[layer * heads + head]
  // False when hidden special tokens took part of the rows' attention (rows sum to ≤ 1).
  bool complete_rows = true;

  int layers() const { return static_cast<int>(layer_names.size()); }
  const Matrix& at(int layer, int head) const;
  Matrix head_mean(int layer) const;  // the average of the layer's heads
};

// Pooling weights over a sequence of tokens (one text, or one sentence of a document).
struct TokenWeights {
  std::vector<std::string> labels;
  std::vector<float> weights;
};

struct ClassScores {
  std::vector<std::string> names;    // class names by id
  std::vector<float> probabilities;  // softmax of the logits, by class id
  int predicted = 0;
  int gold = -1;  // -1: unknown
};

// Everything a page shows for one input.
struct AttentionExample {
  std::string input;      // the source sentence / the text classified
  std::string output;     // the translation (empty for classification)
  std::string alignment;  // hard word alignment of the translation (alignment.h), if any
  ClassScores classes;    // classification only (names empty otherwise)
  std::vector<TokenWeights> token_weights;  // pooling: one entry, or one per sentence (HAN)
  std::vector<float> sentence_weights;      // HAN: one per sentence
  std::vector<HeatmapGroup> heatmaps;
};

// The tokens of one translation, for the axes of its maps.
struct TranslationTokens {
  TokenAxis source;      // x1..xS
  TokenAxis target_in;   // <s> y1..yn
  TokenAxis target_out;  // y1..yn </s>
};

// The heatmap groups of batch row `row` of a translation model's maps, ordered cross-attention,
// encoder self-attention, decoder self-attention (layers by index). Throws naming the map if a
// map is not of a kind above or is smaller than the tokens.
std::vector<HeatmapGroup> translation_heatmaps(const AttentionMaps& maps, int row,
                                               const TranslationTokens& tokens,
                                               const LabelOptions& options);

// The tokens of one classified text: `tokens` for flat models, `sentences` for hierarchical ones.
struct ClassifierTokens {
  TokenAxis tokens;
  std::vector<TokenAxis> sentences;
};

// Adds batch row `row` of a classifier's maps to `example`: "pool" -> token_weights (one entry),
// "word" -> token_weights (one per sentence), "sentence" -> sentence_weights, "self" -> heatmaps.
void add_classifier_attention(const AttentionMaps& maps, int row, const ClassifierTokens& tokens,
                              const LabelOptions& options, AttentionExample& example);

}  // namespace heed::viz
