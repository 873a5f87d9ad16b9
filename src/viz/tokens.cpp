// Token spans and span merging (the rules are in tokens.h).
#include "heed/viz/tokens.h"

#include "heed/util/check.h"

namespace heed::viz {

namespace {

bool starts_word(std::string_view piece) { return piece.starts_with(kWordStart); }

std::string word_label(const TokenAxis& axis, int first, int count) {
  std::string label;
  for (int i = first; i < first + count; ++i) label += axis.pieces[static_cast<std::size_t>(i)];
  if (starts_word(label) && label.size() > kWordStart.size()) label.erase(0, kWordStart.size());
  return label;
}

void check_span(const TokenSpan& span, int size, const char* axis) {
  CHECK(span.first >= 0 && span.count >= 1 && span.first + span.count <= size,
        "merge_spans: ", axis, " span '", span.label, "' [", span.first, ", ",
        span.first + span.count, ") outside the ", size, " tokens");
}

}  // namespace

std::vector<TokenSpan> token_spans(const TokenAxis& axis, const LabelOptions& options) {
  CHECK(axis.special.size() == axis.pieces.size(), "token_spans: ", axis.pieces.size(),
        " pieces but ", axis.special.size(), " special flags");
  std::vector<TokenSpan> spans;
  const int n = axis.size();
  for (int i = 0; i < n;) {
    const bool special = axis.special[static_cast<std::size_t>(i)];
    int count = 1;
    if (options.unit == TokenUnit::kWords && !special) {
      while (i + count < n && !axis.special[static_cast<std::size_t>(i + count)] &&
             !starts_word(axis.pieces[static_cast<std::size_t>(i + count)]))
        ++count;
    }
    if (!(special && options.hide_special)) {
      spans.push_back({options.unit == TokenUnit::kWords ? word_label(axis, i, count)
                                                         : axis.pieces[static_cast<std::size_t>(i)],
                       i, count, special});
    }
    i += count;
  }
  return spans;
}

std::vector<std::string> span_labels(const std::vector<TokenSpan>& spans) {
  std::vector<std::string> labels;
  labels.reserve(spans.size());
  for (const TokenSpan& span : spans) labels.push_back(span.label);
  return labels;
}

Matrix::Matrix(int rows, int cols)
    : rows(rows), cols(cols), values(static_cast<std::size_t>(rows) * cols, 0.f) {}

Matrix::Matrix(int rows, int cols, std::vector<float> values)
    : rows(rows), cols(cols), values(std::move(values)) {
  CHECK(this->values.size() == static_cast<std::size_t>(rows) * cols, "Matrix: ", rows, "x", cols,
        " needs ", rows * cols, " values (got ", this->values.size(), ")");
}

Matrix merge_spans(const Matrix& matrix, const std::vector<TokenSpan>& row_spans,
                   const std::vector<TokenSpan>& col_spans) {
  for (const TokenSpan& s : row_spans) check_span(s, matrix.rows, "row");
  for (const TokenSpan& s : col_spans) check_span(s, matrix.cols, "column");
  Matrix out(static_cast<int>(row_spans.size()), static_cast<int>(col_spans.size()));
  for (int r = 0; r < out.rows; ++r) {
    const TokenSpan& rs = row_spans[static_cast<std::size_t>(r)];
    for (int c = 0; c < out.cols; ++c) {
      const TokenSpan& cs = col_spans[static_cast<std::size_t>(c)];
      double sum = 0;  // over the block: Σ_i Σ_j A[i][j]
      for (int i = rs.first; i < rs.first + rs.count; ++i)
        for (int j = cs.first; j < cs.first + cs.count; ++j) sum += matrix(i, j);
      out(r, c) = static_cast<float>(sum / rs.count);
    }
  }
  return out;
}

std::vector<float> merge_spans(const std::vector<float>& weights,
                               const std::vector<TokenSpan>& spans) {
  std::vector<float> out;
  out.reserve(spans.size());
  for (const TokenSpan& s : spans) {
    check_span(s, static_cast<int>(weights.size()), "weight");
    double sum = 0;
    for (int i = s.first; i < s.first + s.count; ++i) sum += weights[static_cast<std::size_t>(i)];
    out.push_back(static_cast<float>(sum));
  }
  return out;
}

bool spans_drop_tokens(const std::vector<TokenSpan>& spans, int size) {
  int covered = 0;
  for (const TokenSpan& s : spans) covered += s.count;
  return covered < size;
}

}  // namespace heed::viz
