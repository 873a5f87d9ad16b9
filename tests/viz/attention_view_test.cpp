#include "heed/viz/attention_view.h"

#include <gtest/gtest.h>

#include "testing/gradcheck.h"
#include "testing/viz_fixtures.h"

namespace heed::viz {
namespace {

const std::string W(kWordStart);

// Three tokens each side, batch of 2 with row 1 the example; weights w[b,h,t,s] = code of the
// position so that the slicing can be checked exactly.
Tensor coded(Index B, Index H, Index T, Index S) {
  Tensor w = Tensor::zeros(Shape{B, H, T, S});
  for (Index i = 0; i < w.numel(); ++i) w.data()[i] = static_cast<float>(i);
  return w;
}

TranslationTokens small_tokens() {
  return {TokenAxis{{W + "a", W + "b"}, {false, false}},             // source: 2
          TokenAxis{{"<s>", W + "x", "y"}, {true, false, false}},    // decoder input: 3
          TokenAxis{{W + "x", "y", "</s>"}, {false, false, true}}};  // output: 3
}

TEST(TranslationHeatmaps, GroupsLayersInOrderAndCutsPadding) {
  const TranslationTokens tokens = small_tokens();
  // Padded batch: T = 4, S = 3. Maps given out of order (layer 1 before layer 0).
  AttentionMaps maps{{"decoder.layers.1.multihead_attn", "cross", coded(2, 2, 4, 3)},
                     {"encoder.layers.0.self_attn", "self", coded(2, 2, 3, 3)},
                     {"decoder.layers.0.multihead_attn", "cross", coded(2, 2, 4, 3)},
                     {"decoder.layers.0.self_attn", "self", coded(2, 2, 4, 4)}};
  const std::vector<HeatmapGroup> groups = translation_heatmaps(maps, 1, tokens, {});
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].title, "Cross-attention");
  EXPECT_EQ(groups[0].id, "decoder.layers.*.multihead_attn");
  EXPECT_EQ(groups[0].layer_names, (std::vector<std::string>{"decoder.layers.0.multihead_attn",
                                                             "decoder.layers.1.multihead_attn"}));
  EXPECT_EQ(groups[0].row_labels, tokens.target_out.pieces);
  EXPECT_EQ(groups[0].col_labels, tokens.source.pieces);
  EXPECT_EQ(groups[1].title, "Encoder self-attention");
  EXPECT_EQ(groups[2].title, "Decoder self-attention");
  EXPECT_EQ(groups[2].row_labels, tokens.target_in.pieces);
  // Row 1, head 1 of a [2, 2, 4, 3] tensor starts at ((1·2 + 1)·4)·3 = 36; rows of 3, cut to 2.
  const Matrix& m = groups[0].at(0, 1);
  ASSERT_EQ(m.rows, 3);
  ASSERT_EQ(m.cols, 2);
  EXPECT_EQ(m.values, (std::vector<float>{36, 37, 39, 40, 42, 43}));
  EXPECT_TRUE(groups[0].complete_rows);
  // head_mean: heads 0 (24..) and 1 (36..) of row 1.
  EXPECT_EQ(groups[0].head_mean(0).values, (std::vector<float>{30, 31, 33, 34, 36, 37}));
}

TEST(TranslationHeatmaps, WordsAndHiddenSpecials) {
  const TranslationTokens tokens = small_tokens();
  Rng rng(5);
  AttentionMaps maps{
      {"decoder.attention", "cross", testing::random_attention(1, 0, 3, 2, {3}, {2}, false, rng)},
      {"decoder.self", "self", testing::random_attention(1, 0, 3, 3, {3}, {3}, true, rng)}};
  const auto groups =
      translation_heatmaps(maps, 0, tokens, {.unit = TokenUnit::kWords, .hide_special = true});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].title, "Attention");  // an RNN's single map
  EXPECT_EQ(groups[0].heads, 1);
  EXPECT_EQ(groups[0].row_labels, (std::vector<std::string>{"xy"}));  // </s> row hidden
  EXPECT_EQ(groups[0].col_labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(groups[0].complete_rows);  // no source column was hidden
  const Matrix& cross = groups[0].at(0, 0);
  EXPECT_NEAR(cross(0, 0) + cross(0, 1), 1.0, 1e-6);
  EXPECT_EQ(groups[1].row_labels, (std::vector<std::string>{"xy"}));  // <s> hidden
  EXPECT_FALSE(groups[1].complete_rows);  // the <s> column took part of each row
}

TEST(TranslationHeatmaps, RejectsUnknownMapsAndShortMaps) {
  const TranslationTokens tokens = small_tokens();
  AttentionMaps unknown{{"pooling", "pool", Tensor::zeros(Shape{1, 3})}};
  EXPECT_THROW_MSG(
      translation_heatmaps(unknown, 0, tokens, {}),
      "translation_heatmaps: attention map 'pooling' of kind 'pool' has no known axes");
  AttentionMaps short_map{{"decoder.attention", "cross", Tensor::zeros(Shape{1, 2, 2})}};
  EXPECT_THROW_MSG(translation_heatmaps(short_map, 0, tokens, {}),
                   "attention map 'decoder.attention' is 2x2 per head but 3x2 tokens were given");
  AttentionMaps batch{{"decoder.attention", "cross", Tensor::zeros(Shape{1, 3, 2})}};
  EXPECT_THROW_MSG(translation_heatmaps(batch, 1, tokens, {}),
                   "'decoder.attention': no batch row 1 (B=1)");
}

TEST(ClassifierAttention, PoolingSelfAttentionAndHan) {
  const TokenAxis text{{W + "very", W + "goo", "d", W + "film"}, {false, false, false, false}};
  Rng rng(7);
  AttentionExample flat;
  const Tensor pool = Tensor::from_vector(Shape{1, 5}, {0.1f, 0.2f, 0.3f, 0.4f, 0.f});
  AttentionMaps maps{{"encoder.layers.0.self_attn", "self",
                      testing::random_attention(1, 2, 5, 5, {4}, {4}, false, rng)},
                     {"pooling", "pool", pool}};
  add_classifier_attention(maps, 0, {.tokens = text, .sentences = {}}, {.unit = TokenUnit::kWords},
                           flat);
  ASSERT_EQ(flat.token_weights.size(), 1u);
  EXPECT_EQ(flat.token_weights[0].labels, (std::vector<std::string>{"very", "good", "film"}));
  EXPECT_FLOAT_EQ(flat.token_weights[0].weights[1], 0.5f);  // goo + d
  ASSERT_EQ(flat.heatmaps.size(), 1u);
  EXPECT_EQ(flat.heatmaps[0].title, "Self-attention");
  EXPECT_EQ(flat.heatmaps[0].heads, 2);
  EXPECT_EQ(flat.heatmaps[0].at(0, 1).rows, 3);

  AttentionExample han;
  const TokenAxis s1{{W + "bad"}, {false}}, s2{{W + "not", W + "good"}, {false, false}};
  Tensor words = Tensor::from_vector(Shape{1, 3, 2}, {1.f, 0.f, 0.3f, 0.7f, 0.f, 0.f});
  AttentionMaps han_maps{
      {"word_attention", "word", words},
      {"sentence_attention", "sentence", Tensor::from_vector(Shape{1, 3}, {0.4f, 0.6f, 0.f})}};
  add_classifier_attention(han_maps, 0, {.tokens = {}, .sentences = {s1, s2}}, {}, han);
  ASSERT_EQ(han.token_weights.size(), 2u);
  EXPECT_EQ(han.token_weights[1].weights, (std::vector<float>{0.3f, 0.7f}));
  EXPECT_EQ(han.sentence_weights, (std::vector<float>{0.4f, 0.6f}));

  AttentionMaps bad{{"x", "cross", Tensor::zeros(Shape{1, 2, 2})}};
  EXPECT_THROW_MSG(
      add_classifier_attention(bad, 0, {.tokens = text, .sentences = {}}, {}, han),
      "add_classifier_attention: attention map 'x' of kind 'cross' is not a classifier's");
}

}  // namespace
}  // namespace heed::viz
