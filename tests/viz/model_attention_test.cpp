// The attention pages of real (untrained, tiny) models: what each model kind contributes, that
// the page shows the model's own decoding, and that the teacher-forced maps are distributions.
#include "heed/viz/model_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "heed/autograd/grad_mode.h"
#include "heed/models/classifiers.h"
#include "heed/models/rnn_seq2seq.h"
#include "heed/models/transformer.h"
#include "testing/gradcheck.h"

namespace heed::viz {
namespace {

namespace fs = std::filesystem;

// A small SentencePiece model over the quickstart data (dates and reviews), trained once.
const Tokenizer& tokenizer() {
  static const Tokenizer tok = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("heed_viz_model_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    TokenizerTrainOptions options;
    options.input_files = {std::string(HEED_SOURCE_DIR) + "/data/dates/train.src",
                           std::string(HEED_SOURCE_DIR) + "/data/dates/train.tgt",
                           std::string(HEED_SOURCE_DIR) + "/data/reviews/train.tsv"};
    options.model_dir = dir.string();
    options.model_name = "spm";
    options.vocab_size = 200;
    options.input_sentence_size = 4000;
    Tokenizer loaded = Tokenizer::load(Tokenizer::train(options));
    fs::remove_all(dir);  // the processor is in memory
    return loaded;
  }();
  return tok;
}

TransformerSeq2Seq tiny_transformer() {
  TransformerSeq2SeqOptions o;
  o.src_vocab = o.tgt_vocab = tokenizer().vocab_size();
  o.shared_vocab = true;
  o.d_model = 16;
  o.num_heads = 2;
  o.encoder_layers = 2;
  o.decoder_layers = 3;
  o.dim_feedforward = 32;
  o.dropout = 0.1f;
  o.max_len = 128;
  return TransformerSeq2Seq(o, 7);
}

double row_sum(const Matrix& m, int r) {
  double s = 0;
  for (int c = 0; c < m.cols; ++c) s += m(r, c);
  return s;
}

const std::vector<std::string> kDates = {"monday, january 26, 2026", "11 may 2035", ""};

TEST(TranslationAttentionPage, TransformerEveryLayerAndHeadForTheDecodedOutput) {
  TransformerSeq2Seq model = tiny_transformer();
  model.train();
  AttentionRunOptions options;
  options.decode.max_len_b = 6;  // untrained: keep the outputs short
  const AttentionPage page =
      translation_attention_page(model, tokenizer(), tokenizer(), kDates, options);
  EXPECT_TRUE(model.is_training());  // restored
  ASSERT_EQ(page.examples.size(), 3u);

  const AttentionExample& e = page.examples[0];
  EXPECT_EQ(e.input, kDates[0]);
  // The output shown is the model's own greedy decoding of the source.
  model.eval();
  const std::vector<std::int32_t> src = tokenizer().encode(kDates[0]);
  Hypothesis hypothesis;
  {
    NoGradGuard no_grad;
    hypothesis =
        decode(model, IntTensor::from_vector(Shape{1, static_cast<Index>(src.size())}, src),
               IntTensor::from_vector(Shape{1}, {static_cast<std::int32_t>(src.size())}),
               {.beam_size = 1, .max_len_b = 6, .return_attention = true})
            .front();
  }
  EXPECT_EQ(e.output, tokenizer().decode(hypothesis.tokens));
  EXPECT_EQ(e.alignment, hypothesis_alignment(hypothesis, src, tokenizer(), tokenizer()));

  ASSERT_EQ(e.heatmaps.size(), 3u);
  const HeatmapGroup& cross = e.heatmaps[0];
  EXPECT_EQ(cross.title, "Cross-attention");
  EXPECT_EQ(cross.layers(), 3);
  EXPECT_EQ(cross.heads, 2);
  EXPECT_EQ(static_cast<int>(cross.col_labels.size()), static_cast<int>(src.size()));
  ASSERT_EQ(cross.row_labels.size(), hypothesis.tokens.size() + 1);  // + </s>
  EXPECT_EQ(cross.row_labels.back(), "</s>");
  EXPECT_EQ(e.heatmaps[1].layers(), 2);  // encoder
  EXPECT_EQ(e.heatmaps[2].row_labels.front(), "<s>");
  for (const HeatmapGroup& g : e.heatmaps)
    for (const Matrix& m : g.matrices)
      for (int r = 0; r < m.rows; ++r) EXPECT_NEAR(row_sum(m, r), 1.0, 1e-4) << g.id;
  // Decoder self-attention is causal: nothing above the diagonal.
  const Matrix& self = e.heatmaps[2].at(1, 1);
  for (int r = 0; r < self.rows; ++r)
    for (int c = r + 1; c < self.cols; ++c) EXPECT_EQ(self(r, c), 0.f);

  // The empty source: shown, nothing to draw.
  EXPECT_EQ(page.examples[2].output, "");
  EXPECT_TRUE(page.examples[2].heatmaps.empty());
  EXPECT_EQ(page.notes[0], "labels: SentencePiece pieces");
}

TEST(TranslationAttentionPage, RnnHasOneMatrixAndWordsDropTheMarks) {
  RnnSeq2SeqOptions o;
  o.src_vocab = o.tgt_vocab = tokenizer().vocab_size();
  o.embedding_dim = 8;
  o.encoder_hidden = 8;
  o.decoder_hidden = 16;
  o.attention_dim = 8;
  RnnSeq2Seq model(o, 3);
  AttentionRunOptions options;
  options.decode = {.beam_size = 2, .max_len_b = 5};
  options.labels = {.unit = TokenUnit::kWords, .hide_special = true};
  const AttentionPage page =
      translation_attention_page(model, tokenizer(), tokenizer(), {kDates[1]}, options);
  ASSERT_EQ(page.examples.size(), 1u);
  ASSERT_EQ(page.examples[0].heatmaps.size(), 1u);
  const HeatmapGroup& g = page.examples[0].heatmaps[0];
  EXPECT_EQ(g.title, "Attention");
  EXPECT_EQ(g.layer_names, (std::vector<std::string>{"decoder.attention"}));
  EXPECT_EQ(g.heads, 1);
  EXPECT_EQ(g.col_labels, (std::vector<std::string>{"11", "may", "2035"}));
  for (const std::string& label : g.row_labels)
    EXPECT_EQ(label.find(kWordStart), std::string::npos);
  EXPECT_EQ(page.notes[1], "special tokens hidden (rows may sum to < 1)");
  EXPECT_EQ(page.notes[2], "beam search (2)");
  // Alignment: one link per output word, source word indices < 3.
  const std::string& a = page.examples[0].alignment;
  const std::regex format("^([0-2]-[0-9]+( |$))*$");
  EXPECT_TRUE(std::regex_match(a, format)) << a;
}

ClassifierSetup two_classes() {
  return {.class_names = {"negative", "positive"},
          .hierarchical = false,
          .limits = {},
          .max_length = 0};
}

TEST(ClassificationAttentionPage, PoolingWeightsAndProbabilities) {
  BiGruAttentionOptions o;
  o.vocab = tokenizer().vocab_size();
  o.embedding_dim = 8;
  o.hidden = 8;
  o.attention_dim = 8;
  o.num_classes = 2;
  BiGruAttentionClassifier model(o, 5);
  const std::vector<std::string> texts{"we loved the food.", ""};
  const AttentionPage page =
      classification_attention_page(model, tokenizer(), two_classes(), texts, {}, {1, 0});
  ASSERT_EQ(page.examples.size(), 2u);
  const AttentionExample& e = page.examples[0];
  EXPECT_EQ(e.classes.names, two_classes().class_names);
  EXPECT_NEAR(e.classes.probabilities[0] + e.classes.probabilities[1], 1.0, 1e-6);
  EXPECT_EQ(e.classes.predicted, e.classes.probabilities[1] > e.classes.probabilities[0] ? 1 : 0);
  EXPECT_EQ(e.classes.gold, 1);
  ASSERT_EQ(e.token_weights.size(), 1u);
  EXPECT_EQ(e.token_weights[0].labels.size(), tokenizer().encode(texts[0]).size());
  double sum = 0;
  for (float w : e.token_weights[0].weights) sum += w;
  EXPECT_NEAR(sum, 1.0, 1e-5);
  EXPECT_TRUE(e.heatmaps.empty());
  // An empty text is one <unk>, as the classifier reads it in training.
  EXPECT_EQ(page.examples[1].token_weights[0].labels, (std::vector<std::string>{"<unk>"}));

  EXPECT_THROW_MSG(
      classification_attention_page(
          model, tokenizer(),
          {.class_names = {"a"}, .hierarchical = false, .limits = {}, .max_length = 0}, texts, {}),
      "classification_attention_page: 1 class names for a model of 2 classes");
}

TEST(ClassificationAttentionPage, HierarchicalSentencesAndWords) {
  HierarchicalAttentionOptions o;
  o.vocab = tokenizer().vocab_size();
  o.embedding_dim = 8;
  o.word_hidden = 6;
  o.sentence_hidden = 6;
  o.word_attention_dim = 8;
  o.sentence_attention_dim = 8;
  o.num_classes = 2;
  HierarchicalAttentionNetwork model(o, 9);
  ClassifierSetup setup = two_classes();
  setup.hierarchical = true;
  setup.max_length = 3;  // words cropped per sentence
  const AttentionPage page = classification_attention_page(
      model, tokenizer(), setup, {"We loved the food. The cast was bad! I liked it."}, {});
  const AttentionExample& e = page.examples[0];
  ASSERT_EQ(e.sentence_weights.size(), 3u);
  ASSERT_EQ(e.token_weights.size(), 3u);
  EXPECT_NEAR(e.sentence_weights[0] + e.sentence_weights[1] + e.sentence_weights[2], 1.0, 1e-5);
  for (const TokenWeights& tw : e.token_weights) {
    EXPECT_LE(tw.labels.size(), 3u);
    double sum = 0;
    for (float w : tw.weights) sum += w;
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(ClassificationAttentionPage, TransformerClassifierSelfAttentionAndPooling) {
  TransformerClassifierOptions o;
  o.vocab = tokenizer().vocab_size();
  o.d_model = 16;
  o.num_heads = 4;
  o.num_layers = 2;
  o.dim_feedforward = 16;
  o.pooling = ClassifierPooling::kAttention;
  o.num_classes = 2;
  TransformerClassifier model(o, 11);
  const fs::path path =
      fs::temp_directory_path() / ("heed_viz_tc_" + std::to_string(::getpid())) / "a.html";
  write_attention_page(path, model, tokenizer(), two_classes(),
                       {"i hated the cast but we liked the film"}, {});
  std::ifstream in(path);
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_NE(html.str().find("\"title\":\"Self-attention\""), std::string::npos);
  fs::remove_all(path.parent_path());
  const AttentionPage page =
      classification_attention_page(model, tokenizer(), two_classes(), {"we liked the film"}, {});
  ASSERT_EQ(page.examples[0].heatmaps.size(), 1u);
  EXPECT_EQ(page.examples[0].heatmaps[0].layers(), 2);
  EXPECT_EQ(page.examples[0].heatmaps[0].heads, 4);
  EXPECT_EQ(page.examples[0].token_weights.size(), 1u);

  // Over the heatmap limit: the pooling stays, the heatmaps go, and the page says so.
  AttentionRunOptions small;
  small.max_heatmap_tokens = 3;
  const AttentionPage limited = classification_attention_page(model, tokenizer(), two_classes(),
                                                              {"we liked the film"}, small);
  EXPECT_TRUE(limited.examples[0].heatmaps.empty());
  EXPECT_EQ(limited.examples[0].token_weights.size(), 1u);
  EXPECT_EQ(limited.notes.back(), "heatmaps of inputs over 3 tokens left out");
}

}  // namespace
}  // namespace heed::viz
