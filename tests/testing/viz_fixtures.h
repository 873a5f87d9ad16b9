// Synthetic attention for the viz tests and the browser test: maps shaped like heed's models
// produce them (random rows that are distributions over the unpadded keys), example tokens,
// whole pages; and an XML well-formedness check for the SVG output.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "heed/models/attention_map.h"
#include "heed/tensor/rng.h"
#include "heed/util/check.h"
#include "heed/viz/alignment.h"
#include "heed/viz/attention_page.h"

namespace heed::testing {

// [B, H, T, S] (H > 0) or [B, T, S] (H == 0) weights: row (b, h, t) is a random distribution over
// the first key_lengths[b] keys (0 beyond; causal: over keys <= t), rows past row_lengths[b] zero.
inline Tensor random_attention(Index B, Index H, Index T, Index S,
                               const std::vector<Index>& row_lengths,
                               const std::vector<Index>& key_lengths, bool causal, Rng& rng) {
  const Index heads = H > 0 ? H : 1;
  Tensor w = H > 0 ? Tensor::zeros(Shape{B, H, T, S}) : Tensor::zeros(Shape{B, T, S});
  float* p = w.data();
  for (Index b = 0; b < B; ++b)
    for (Index h = 0; h < heads; ++h)
      for (Index t = 0; t < row_lengths[static_cast<std::size_t>(b)]; ++t) {
        float* row = p + ((b * heads + h) * T + t) * S;
        const Index keys = causal ? std::min(t + 1, key_lengths[static_cast<std::size_t>(b)])
                                  : key_lengths[static_cast<std::size_t>(b)];
        double sum = 0;
        for (Index s = 0; s < keys; ++s) {
          // Peaked rows (like trained attention): exp(3·u) with a bump near the diagonal.
          const double bump = std::exp(
              -0.5 *
              std::pow((static_cast<double>(s) - t * keys / std::max<Index>(T, 1)) / 1.5, 2));
          row[s] = static_cast<float>(std::exp(3.0 * rng.uniform()) * (1.0 + 6.0 * bump));
          sum += row[s];
        }
        for (Index s = 0; s < keys; ++s) row[s] = static_cast<float>(row[s] / sum);
      }
  return w;
}

// [B, N] / [B, T] pooling weights: distributions over the first lengths[b] entries.
inline Tensor random_pooling(Index B, Index T, const std::vector<Index>& lengths, Rng& rng) {
  Tensor w = Tensor::zeros(Shape{B, T});
  for (Index b = 0; b < B; ++b) {
    float* row = w.data() + b * T;
    double sum = 0;
    for (Index t = 0; t < lengths[static_cast<std::size_t>(b)]; ++t)
      sum += row[t] = std::exp(3.f * rng.uniform());
    for (Index t = 0; t < lengths[static_cast<std::size_t>(b)]; ++t)
      row[t] = static_cast<float>(row[t] / sum);
  }
  return w;
}

// Pieces of a sentence: "▁" + word for the first piece of each word; long words split in two.
inline viz::TokenAxis pieces_of(const std::vector<std::string>& words, bool bos = false,
                                bool eos = false) {
  viz::TokenAxis axis;
  auto add = [&](const std::string& piece, bool special) {
    axis.pieces.push_back(piece);
    axis.special.push_back(special);
  };
  if (bos) add("<s>", true);
  for (const std::string& w : words) {
    if (w.size() > 6) {
      add(std::string(viz::kWordStart) + w.substr(0, 4), false);
      add(w.substr(4), false);
    } else {
      add(std::string(viz::kWordStart) + w, false);
    }
  }
  if (eos) add("</s>", true);
  return axis;
}

inline std::vector<std::string> sample_words(int n, std::uint64_t seed) {
  static const char* kWords[] = {
      "the",   "dog",      "runs",    "through",  "a",       "beautiful", "park",
      "with",  "children", "playing", "football", "under",   "tall",      "trees",
      "while", "parents",  "watch",   "from",     "benches", "nearby",    "."};
  Rng rng(seed);
  std::vector<std::string> words;
  for (int i = 0; i < n; ++i) words.push_back(kWords[rng.randint(0, 21)]);
  return words;
}

inline std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const std::string& w : words) {
    if (!s.empty()) s += ' ';
    s += w;
  }
  return s;
}

// A Transformer translation example: maps for `layers` encoder and decoder layers of `heads`
// heads over a batch of two sentences (this example is row 1, padded in the batch).
inline viz::AttentionExample transformer_example(int source_words, int target_words, int layers,
                                                 int heads, const viz::LabelOptions& options,
                                                 std::uint64_t seed) {
  Rng rng(seed);
  const std::vector<std::string> src_words = sample_words(source_words, seed);
  const std::vector<std::string> tgt_words = sample_words(target_words, seed + 1);
  viz::TranslationTokens tokens{pieces_of(src_words), pieces_of(tgt_words, true, false),
                                pieces_of(tgt_words, false, true)};
  const Index S = tokens.source.size(), T = tokens.target_out.size();
  const Index Sp = S + 3, Tp = T + 2;  // batch padding
  AttentionMaps maps;
  for (int l = 0; l < layers; ++l)
    maps.push_back({str("encoder.layers.", l, ".self_attn"), "self",
                    random_attention(2, heads, Sp, Sp, {Sp, S}, {Sp, S}, false, rng)});
  for (int l = 0; l < layers; ++l) {
    maps.push_back({str("decoder.layers.", l, ".self_attn"), "self",
                    random_attention(2, heads, Tp, Tp, {Tp, T}, {Tp, T}, true, rng)});
    maps.push_back({str("decoder.layers.", l, ".multihead_attn"), "cross",
                    random_attention(2, heads, Tp, Sp, {Tp, T}, {Sp, S}, false, rng)});
  }
  viz::AttentionExample example;
  example.input = joined(src_words);
  example.output = joined(tgt_words);
  example.heatmaps = viz::translation_heatmaps(maps, 1, tokens, options);
  // Alignment from the last layer's head mean over pieces, as decoding reports it.
  const viz::Matrix raw =
      viz::translation_heatmaps(maps, 1, tokens, {}).front().head_mean(layers - 1);
  example.alignment = viz::word_alignment(raw, tokens.source, tokens.target_out);
  return example;
}

// An RNN (Bahdanau) translation example: one "decoder.attention" [B, T, S] map.
inline viz::AttentionExample rnn_example(int source_words, int target_words,
                                         const viz::LabelOptions& options, std::uint64_t seed) {
  Rng rng(seed);
  const std::vector<std::string> src_words = sample_words(source_words, seed);
  const std::vector<std::string> tgt_words = sample_words(target_words, seed + 1);
  viz::TranslationTokens tokens{pieces_of(src_words), pieces_of(tgt_words, true, false),
                                pieces_of(tgt_words, false, true)};
  const Index S = tokens.source.size(), T = tokens.target_out.size();
  AttentionMaps maps{
      {"decoder.attention", "cross", random_attention(1, 0, T, S, {T}, {S}, false, rng)}};
  viz::AttentionExample example;
  example.input = joined(src_words);
  example.output = joined(tgt_words);
  example.heatmaps = viz::translation_heatmaps(maps, 0, tokens, options);
  viz::Matrix raw = viz::translation_heatmaps(maps, 0, tokens, {}).front().at(0, 0);
  example.alignment = viz::word_alignment(raw, tokens.source, tokens.target_out);
  return example;
}

inline viz::ClassScores two_classes(float positive, int gold) {
  return {{"negative", "positive"}, {1.f - positive, positive}, positive >= 0.5f ? 1 : 0, gold};
}

// A BiGRU / attention-pooling classifier example (optionally a Transformer classifier: with
// self-attention maps of `layers` × `heads`).
inline viz::AttentionExample classifier_example(int words, int layers, int heads,
                                                const viz::LabelOptions& options,
                                                std::uint64_t seed) {
  Rng rng(seed);
  const std::vector<std::string> text = sample_words(words, seed);
  viz::ClassifierTokens tokens;
  tokens.tokens = pieces_of(text);
  const Index T = tokens.tokens.size();
  AttentionMaps maps;
  for (int l = 0; l < layers; ++l)
    maps.push_back({str("encoder.layers.", l, ".self_attn"), "self",
                    random_attention(1, heads, T, T, {T}, {T}, false, rng)});
  maps.push_back({"pooling", "pool", random_pooling(1, T, {T}, rng)});
  viz::AttentionExample example;
  example.input = joined(text);
  example.classes =
      two_classes(0.5f + 0.45f * (rng.uniform() - 0.5f) * 2, static_cast<int>(seed % 2));
  viz::add_classifier_attention(maps, 0, tokens, options, example);
  return example;
}

// A hierarchical (HAN) example: `sentences` sentences of up to `words` words.
inline viz::AttentionExample han_example(int sentences, int words, const viz::LabelOptions& options,
                                         std::uint64_t seed) {
  Rng rng(seed);
  viz::ClassifierTokens tokens;
  std::string text;
  std::vector<Index> lengths;
  Index L = 0;
  for (int n = 0; n < sentences; ++n) {
    const std::vector<std::string> s =
        sample_words(3 + static_cast<int>(rng.randint(0, words - 2)), seed + 7 * n);
    tokens.sentences.push_back(pieces_of(s));
    lengths.push_back(tokens.sentences.back().size());
    L = std::max(L, lengths.back());
    if (!text.empty()) text += ' ';
    text += joined(s);
  }
  const Index N = sentences + 1;  // one padding sentence in the batch
  lengths.push_back(0);
  Tensor word = Tensor::zeros(Shape{1, N, L});
  for (Index n = 0; n < N; ++n) {
    Tensor row = random_pooling(1, L, {lengths[static_cast<std::size_t>(n)]}, rng);
    std::copy(row.data(), row.data() + L, word.data() + n * L);
  }
  lengths.pop_back();
  AttentionMaps maps{{"word_attention", "word", word},
                     {"sentence_attention", "sentence", random_pooling(1, N, {sentences}, rng)}};
  viz::AttentionExample example;
  example.input = text;
  example.classes = two_classes(0.8f, 1);
  viz::add_classifier_attention(maps, 0, tokens, options, example);
  return example;
}

// ---- XML well-formedness (enough for the SVG heed writes: elements, attributes, entities,
// comments; no DTD). Returns "" or the first problem with its offset.
inline std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  int roots = 0;
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return k < s.size() ? s[k] : '\0'; };
  auto fail = [&](const std::string& what) { return what + " at offset " + std::to_string(i); };
  auto name_char = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
           static_cast<unsigned char>(c) >= 0x80 ||
           (!first && (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'));
  };
  auto check_entity = [&](std::size_t k, std::size_t& end) {
    end = s.find(';', k);
    if (end == std::string::npos || end - k > 10) return false;
    const std::string e = s.substr(k + 1, end - k - 1);
    if (e == "amp" || e == "lt" || e == "gt" || e == "quot" || e == "apos") return true;
    if (e.size() > 1 && e[0] == '#') {
      const bool hex = e[1] == 'x';
      for (std::size_t j = hex ? 2 : 1; j < e.size(); ++j)
        if (!(hex ? std::isxdigit(static_cast<unsigned char>(e[j]))
                  : std::isdigit(static_cast<unsigned char>(e[j]))))
          return false;
      return e.size() > (hex ? 2u : 1u);
    }
    return false;
  };
  if (s.starts_with("<?xml")) i = s.find("?>") + 2;
  while (i < s.size()) {
    if (s[i] != '<') {
      if (s[i] == '&') {
        std::size_t end;
        if (!check_entity(i, end)) return fail("bad entity");
        i = end + 1;
        continue;
      }
      if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i])))
        return fail("text outside the root");
      ++i;
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      const std::size_t end = s.find("-->", i);
      if (end == std::string::npos) return fail("unterminated comment");
      i = end + 3;
      continue;
    }
    if (at(i + 1) == '/') {
      std::size_t j = i + 2;
      while (name_char(at(j), j == i + 2)) ++j;
      const std::string name = s.substr(i + 2, j - i - 2);
      while (std::isspace(static_cast<unsigned char>(at(j)))) ++j;
      if (at(j) != '>') return fail("bad end tag");
      if (open.empty() || open.back() != name) return fail("mismatched </" + name + ">");
      open.pop_back();
      i = j + 1;
      continue;
    }
    std::size_t j = i + 1;
    if (!name_char(at(j), true)) return fail("bad tag name");
    while (name_char(at(j), j == i + 1)) ++j;
    const std::string name = s.substr(i + 1, j - i - 1);
    std::vector<std::string> attributes;
    for (;;) {
      const std::size_t before = j;
      while (std::isspace(static_cast<unsigned char>(at(j)))) ++j;
      if (at(j) == '>' || (at(j) == '/' && at(j + 1) == '>')) break;
      if (j == before) return fail("no space before attribute in <" + name + ">");
      const std::size_t a = j;
      while (name_char(at(j), j == a)) ++j;
      if (j == a) return fail("bad attribute in <" + name + ">");
      const std::string attribute = s.substr(a, j - a);
      for (const std::string& seen : attributes)
        if (seen == attribute) return fail("duplicate attribute " + attribute);
      attributes.push_back(attribute);
      if (at(j) != '=') return fail("attribute without value in <" + name + ">");
      const char quote = at(j + 1);
      if (quote != '"' && quote != '\'') return fail("unquoted attribute in <" + name + ">");
      std::size_t k = j + 2;
      while (k < s.size() && s[k] != quote) {
        if (s[k] == '<') return fail("'<' in attribute value");
        if (s[k] == '&') {
          std::size_t end;
          if (!check_entity(k, end)) return fail("bad entity in attribute");
          k = end;
        }
        ++k;
      }
      if (k >= s.size()) return fail("unterminated attribute value");
      j = k + 1;
    }
    const bool empty = at(j) == '/';
    if (open.empty()) ++roots;
    if (roots > 1) return fail("more than one root element");
    if (!empty) open.push_back(name);
    i = j + (empty ? 2 : 1);
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (roots != 1) return "no root element";
  return "";
}

// Also asks xmllint, when it is installed (it is not required).
inline void expect_well_formed_xml(const std::string& text, const std::string& name) {
  EXPECT_EQ(xml_problem(text), "") << name;
  if (std::filesystem::exists("/usr/bin/xmllint")) {
    const auto path =
        std::filesystem::temp_directory_path() /
        ("heed_viz_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
         name);
    std::ofstream(path) << text;
    const int status =
        std::system(("/usr/bin/xmllint --noout '" + path.string() + "' 2>/dev/null").c_str());
    EXPECT_EQ(status, 0) << name << ": xmllint rejects it";
    std::filesystem::remove(path);
  }
}

}  // namespace heed::testing
