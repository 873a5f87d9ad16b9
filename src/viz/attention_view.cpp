// AttentionMaps -> heatmap groups and pooling weights (attention_view.h).
#include "heed/viz/attention_view.h"

#include <algorithm>
#include <cctype>

#include "heed/util/check.h"

namespace heed::viz {

const Matrix& HeatmapGroup::at(int layer, int head) const {
  CHECK(layer >= 0 && layer < layers() && head >= 0 && head < heads, "HeatmapGroup '", id,
        "': no layer ", layer, " head ", head, " (", layers(), " layers, ", heads, " heads)");
  return matrices[static_cast<std::size_t>(layer * heads + head)];
}

Matrix HeatmapGroup::head_mean(int layer) const {
  Matrix mean = at(layer, 0);
  for (int h = 1; h < heads; ++h) {
    const Matrix& m = at(layer, h);
    for (std::size_t i = 0; i < mean.values.size(); ++i) mean.values[i] += m.values[i];
  }
  for (float& v : mean.values) v /= static_cast<float>(heads);
  return mean;
}

namespace {

// "decoder.layers.3.self_attn" -> {"decoder.layers.*.self_attn", 3}; a name without a numeric
// component is layer 0 of itself.
std::pair<std::string, int> layer_pattern(const std::string& name) {
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string::npos) end = name.size();
    const std::string part = name.substr(start, end - start);
    if (!part.empty() && part.size() < 6 &&
        std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return {name.substr(0, start) + "*" + name.substr(end), std::stoi(part)};
    }
    start = end + 1;
  }
  return {name, 0};
}

int num_heads(const AttentionMap& map) {
  return map.weights.ndim() == 4 ? static_cast<int>(map.weights.size(1)) : 1;
}

// Head `head` of batch row `row` of a [B, H, T, S] or [B, T, S] map, cut to rows × cols.
Matrix slice(const AttentionMap& map, int row, int head, int rows, int cols) {
  const Tensor& w = map.weights;
  CHECK(w.defined() && (w.ndim() == 3 || w.ndim() == 4), "attention map '", map.name,
        "': expected [B, H, T, S] or [B, T, S] weights (got ",
        w.defined() ? str(w.shape()) : std::string("none"), ")");
  const int d = w.ndim() - 3;  // 1 with heads
  const Index B = w.size(0), T = w.size(1 + d), S = w.size(2 + d);
  CHECK(row >= 0 && row < B, "attention map '", map.name, "': no batch row ", row, " (B=", B, ")");
  CHECK(rows <= T && cols <= S, "attention map '", map.name, "' is ", T, "x", S, " per head but ",
        rows, "x", cols, " tokens were given");
  const Index H = d ? w.size(1) : 1;
  const float* base = w.data() + ((static_cast<Index>(row) * H + head) * T) * S;
  Matrix m(rows, cols);
  for (int t = 0; t < rows; ++t)
    std::copy(base + t * S, base + t * S + cols,
              m.values.begin() + static_cast<std::ptrdiff_t>(t) * cols);
  return m;
}

// Weights [B, N] / [B, T] row `row`, first n; or [B, N, L] at (row, sentence), first n.
std::vector<float> weights_row(const AttentionMap& map, int row, int sentence, int n) {
  const Tensor& w = map.weights;
  const bool nested = sentence >= 0;
  CHECK(w.defined() && w.ndim() == (nested ? 3 : 2), "attention map '", map.name, "' (", map.kind,
        "): expected ", nested ? "[B, N, L]" : "[B, S]", " weights (got ",
        w.defined() ? str(w.shape()) : std::string("none"), ")");
  const Index B = w.size(0), L = w.size(w.ndim() - 1);
  CHECK(row >= 0 && row < B, "attention map '", map.name, "': no batch row ", row, " (B=", B, ")");
  CHECK(n <= L && (!nested || sentence < w.size(1)), "attention map '", map.name, "' has ",
        w.shape(), " weights but ", n, " tokens", nested ? str(" in sentence ", sentence) : "",
        " were given");
  const float* p = w.data() + (nested ? (row * w.size(1) + sentence) * L : row * L);
  return std::vector<float>(p, p + n);
}

struct Role {
  std::string title, row_title, col_title;
  int order = 0;
  const TokenAxis* rows = nullptr;
  const TokenAxis* cols = nullptr;
};

// Builds groups map by map; layers are sorted at the end.
class GroupBuilder {
 public:
  explicit GroupBuilder(const LabelOptions& options) : options_(options) {}

  void add(const AttentionMap& map, int row, const Role& role) {
    const auto [id, layer] = layer_pattern(map.name);
    Pending* group = nullptr;
    for (Pending& p : groups_)
      if (p.group.id == id) group = &p;
    const int heads = num_heads(map);
    const auto row_spans = token_spans(*role.rows, options_);
    const auto col_spans = token_spans(*role.cols, options_);
    if (!group) {
      groups_.push_back({});
      group = &groups_.back();
      HeatmapGroup& g = group->group;
      g.id = id;
      g.title = role.title;
      g.kind = map.kind;
      g.row_title = role.row_title;
      g.col_title = role.col_title;
      g.row_labels = span_labels(row_spans);
      g.col_labels = span_labels(col_spans);
      g.heads = heads;
      g.complete_rows = !spans_drop_tokens(col_spans, role.cols->size());
      group->order = role.order;
    }
    CHECK(group->group.heads == heads, "attention map '", map.name, "' has ", heads,
          " heads but other layers of '", id, "' have ", group->group.heads);
    Layer entry{layer, map.name, {}};
    for (int h = 0; h < heads; ++h)
      entry.matrices.push_back(merge_spans(slice(map, row, h, role.rows->size(), role.cols->size()),
                                           row_spans, col_spans));
    group->layers.push_back(std::move(entry));
  }

  std::vector<HeatmapGroup> finish() {
    std::stable_sort(groups_.begin(), groups_.end(),
                     [](const Pending& a, const Pending& b) { return a.order < b.order; });
    std::vector<HeatmapGroup> out;
    for (Pending& p : groups_) {
      std::stable_sort(p.layers.begin(), p.layers.end(),
                       [](const Layer& a, const Layer& b) { return a.index < b.index; });
      for (Layer& layer : p.layers) {
        p.group.layer_names.push_back(layer.name);
        for (Matrix& m : layer.matrices) p.group.matrices.push_back(std::move(m));
      }
      out.push_back(std::move(p.group));
    }
    return out;
  }

 private:
  struct Layer {
    int index;
    std::string name;
    std::vector<Matrix> matrices;
  };
  struct Pending {
    HeatmapGroup group;
    int order = 0;
    std::vector<Layer> layers;
  };
  LabelOptions options_;
  std::vector<Pending> groups_;
};

TokenWeights token_weights(const std::vector<float>& weights, const TokenAxis& axis,
                           const LabelOptions& options) {
  const auto spans = token_spans(axis, options);
  return {span_labels(spans), merge_spans(weights, spans)};
}

}  // namespace

std::vector<HeatmapGroup> translation_heatmaps(const AttentionMaps& maps, int row,
                                               const TranslationTokens& tokens,
                                               const LabelOptions& options) {
  GroupBuilder builder(options);
  for (const AttentionMap& map : maps) {
    Role role;
    if (map.kind == "cross") {
      const bool layered = layer_pattern(map.name).first != map.name;
      role = {layered ? "Cross-attention" : "Attention",
              "output",
              "source",
              0,
              &tokens.target_out,
              &tokens.source};
    } else if (map.kind == "self" && map.name.starts_with("encoder")) {
      role = {"Encoder self-attention", "source", "source", 1, &tokens.source, &tokens.source};
    } else if (map.kind == "self" && map.name.starts_with("decoder")) {
      role = {"Decoder self-attention", "decoder input",  "decoder input", 2,
              &tokens.target_in,        &tokens.target_in};
    } else {
      CHECK(false, "translation_heatmaps: attention map '", map.name, "' of kind '", map.kind,
            "' has no known axes (expected cross, or self under encoder.* / decoder.*)");
    }
    builder.add(map, row, role);
  }
  return builder.finish();
}

void add_classifier_attention(const AttentionMaps& maps, int row, const ClassifierTokens& tokens,
                              const LabelOptions& options, AttentionExample& example) {
  GroupBuilder builder(options);
  for (const AttentionMap& map : maps) {
    if (map.kind == "pool") {
      example.token_weights.push_back(
          token_weights(weights_row(map, row, -1, tokens.tokens.size()), tokens.tokens, options));
    } else if (map.kind == "word") {
      for (std::size_t n = 0; n < tokens.sentences.size(); ++n) {
        const TokenAxis& sentence = tokens.sentences[n];
        example.token_weights.push_back(token_weights(
            weights_row(map, row, static_cast<int>(n), sentence.size()), sentence, options));
      }
    } else if (map.kind == "sentence") {
      example.sentence_weights =
          weights_row(map, row, -1, static_cast<int>(tokens.sentences.size()));
    } else if (map.kind == "self") {
      builder.add(map, row,
                  {"Self-attention", "token", "token", 0, &tokens.tokens, &tokens.tokens});
    } else {
      CHECK(false, "add_classifier_attention: attention map '", map.name, "' of kind '", map.kind,
            "' is not a classifier's (pool, word, sentence, self)");
    }
  }
  for (HeatmapGroup& group : builder.finish()) example.heatmaps.push_back(std::move(group));
}

}  // namespace heed::viz
