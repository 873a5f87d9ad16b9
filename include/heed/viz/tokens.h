// Token labels for attention plots, and what happens to an attention matrix when its tokens are
// shown as whole words or when special tokens are hidden.
//
// SentencePiece marks the start of a word with "▁" (U+2581): "▁Ein", "▁Hund", "e", "▁läuft".
// With TokenUnit::kWords, consecutive pieces are grouped into words — a group starts at a piece
// beginning with "▁" and at every special token (which is a group of its own) — and labelled by
// their concatenation without the "▁" ("Hunde", "läuft").
//
// Merging a [rows × cols] attention matrix A whose rows are distributions over the columns:
//   word column c (pieces C_c): the SUM of the piece columns, Σ_{j∈C_c} A[i][j] — the attention a
//                                word gets is the attention its pieces get;
//   word row r (pieces R_r):    the MEAN of the piece rows, (1/|R_r|) Σ_{i∈R_r} — each piece of a
//                                target word is one distribution; their average is one too.
// So merged rows still sum to 1. A vector of pooling weights (one distribution) is summed.
//
// Special tokens (BOS, EOS, padding) are kept by default. With hide_special their rows and columns
// are dropped without renormalizing: a row then sums to 1 minus the attention its query gave to
// the hidden tokens (≤ 1), which is what the model did; the pages say so.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace heed::viz {

// "▁", SentencePiece's word-start marker (U+2581, UTF-8).
inline constexpr std::string_view kWordStart = "\xE2\x96\x81";

// One axis of an attention matrix: its tokens in order.
struct TokenAxis {
  std::vector<std::string> pieces;  // SentencePiece pieces as the model saw them
  std::vector<bool> special;        // BOS/EOS/padding: a word of its own; hidden by hide_special
  int size() const { return static_cast<int>(pieces.size()); }
};

enum class TokenUnit { kPieces, kWords };

struct LabelOptions {
  TokenUnit unit = TokenUnit::kPieces;
  bool hide_special = false;
};

// Tokens [first, first + count) of an axis, shown as one label.
struct TokenSpan {
  std::string label;
  int first = 0;
  int count = 1;
  bool special = false;
};

// The labels of an axis under `options`: one span per piece, or per word; special tokens dropped
// with hide_special. Throws if `special` and `pieces` differ in length.
std::vector<TokenSpan> token_spans(const TokenAxis& axis, const LabelOptions& options);
std::vector<std::string> span_labels(const std::vector<TokenSpan>& spans);

// A dense row-major matrix (attention weights of one head: rows = queries, columns = keys).
struct Matrix {
  int rows = 0, cols = 0;
  std::vector<float> values;  // rows · cols

  Matrix() = default;
  Matrix(int rows, int cols);  // zeros
  Matrix(int rows, int cols, std::vector<float> values);
  float& operator()(int r, int c) { return values[static_cast<std::size_t>(r) * cols + c]; }
  float operator()(int r, int c) const { return values[static_cast<std::size_t>(r) * cols + c]; }
};

// The matrix over spans (see the merging rule above): rows are averaged over each row span's
// tokens, columns summed over each column span's tokens; tokens in no span are dropped.
// Throws if a span lies outside the matrix.
Matrix merge_spans(const Matrix& matrix, const std::vector<TokenSpan>& row_spans,
                   const std::vector<TokenSpan>& col_spans);
// Weights over tokens -> weights over spans (summed).
std::vector<float> merge_spans(const std::vector<float>& weights,
                               const std::vector<TokenSpan>& spans);

// Whether spans leave out some token of an axis of `size` tokens (hidden special tokens).
bool spans_drop_tokens(const std::vector<TokenSpan>& spans, int size);

}  // namespace heed::viz
