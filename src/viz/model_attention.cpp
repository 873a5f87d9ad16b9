// Running models for their attention (model_attention.h).
#include "heed/viz/model_attention.h"

#include <algorithm>
#include <cmath>

#include "heed/autograd/grad_mode.h"
#include "heed/tensor/special_ids.h"
#include "heed/util/check.h"
#include "heed/viz/alignment.h"

namespace heed::viz {

namespace {

// Evaluation mode for the scope, the previous mode restored after.
class EvalScope {
 public:
  explicit EvalScope(Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalScope() { module_.train(was_training_); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

bool is_special(std::int32_t id) { return id == kPadId || id == kBosId || id == kEosId; }

std::vector<std::string> run_notes(const AttentionRunOptions& options, bool translation) {
  std::vector<std::string> notes;
  notes.push_back(options.labels.unit == TokenUnit::kWords
                      ? "labels: words (a word's source columns summed, its target rows averaged)"
                      : "labels: SentencePiece pieces");
  if (translation) {
    notes.push_back(options.labels.hide_special ? "special tokens hidden (rows may sum to < 1)"
                                                : "special tokens shown");
    notes.push_back(options.decode.beam_size > 1
                        ? str("beam search (", options.decode.beam_size, ")")
                        : std::string("greedy decoding"));
    notes.push_back("attention from a teacher-forced pass over the output shown");
  }
  notes.insert(notes.end(), options.notes.begin(), options.notes.end());
  return notes;
}

IntTensor row_of(const std::vector<std::int32_t>& ids) {
  return IntTensor::from_vector(Shape{1, static_cast<Index>(ids.size())}, ids);
}

Matrix to_matrix(const Tensor& t) {
  CHECK(t.ndim() == 2, "attention: expected a [T, S] matrix (got ", t.shape(), ")");
  const float* p = t.data();
  return Matrix(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)),
                std::vector<float>(p, p + t.numel()));
}

std::vector<std::int32_t> cropped(std::vector<std::int32_t> ids, int max_length) {
  if (max_length > 0 && static_cast<int>(ids.size()) > max_length)
    ids.resize(static_cast<std::size_t>(max_length));
  return ids;
}

// Drops the heatmap groups with an axis over the limit; says so in the page's notes once.
void limit_heatmaps(AttentionExample& example, int max_tokens, AttentionPage& page) {
  if (max_tokens <= 0) return;
  auto too_big = [&](const HeatmapGroup& g) {
    return static_cast<int>(std::max(g.row_labels.size(), g.col_labels.size())) > max_tokens;
  };
  const auto removed = std::remove_if(example.heatmaps.begin(), example.heatmaps.end(), too_big);
  if (removed == example.heatmaps.end()) return;
  example.heatmaps.erase(removed, example.heatmaps.end());
  const std::string note = str("heatmaps of inputs over ", max_tokens, " tokens left out");
  if (std::find(page.notes.begin(), page.notes.end(), note) == page.notes.end())
    page.notes.push_back(note);
}

}  // namespace

TokenAxis token_axis(const Tokenizer& tokenizer, const std::vector<std::int32_t>& ids) {
  TokenAxis axis;
  for (std::int32_t id : ids) {
    axis.pieces.push_back(tokenizer.id_to_piece(id));
    axis.special.push_back(is_special(id));
  }
  return axis;
}

std::string hypothesis_alignment(const Hypothesis& hypothesis,
                                 const std::vector<std::int32_t>& source_ids,
                                 const Tokenizer& source, const Tokenizer& target) {
  if (hypothesis.tokens.empty()) return "";
  CHECK(hypothesis.attention.defined(),
        "hypothesis_alignment: the hypothesis has no attention (decode with return_attention)");
  std::vector<std::int32_t> out = hypothesis.tokens;
  out.push_back(kEosId);
  return word_alignment(to_matrix(hypothesis.attention), token_axis(source, source_ids),
                        token_axis(target, out));
}

AttentionPage translation_attention_page(Seq2SeqModel& model, const Tokenizer& source,
                                         const Tokenizer& target,
                                         const std::vector<std::string>& sentences,
                                         const AttentionRunOptions& options) {
  AttentionPage page;
  page.title = options.title;
  page.notes = run_notes(options, true);
  page.unit = options.labels.unit;
  EvalScope eval(model);
  NoGradGuard no_grad;
  DecodeOptions decode_options = options.decode;
  decode_options.return_attention = true;
  for (const std::string& sentence : sentences) {
    AttentionExample example;
    example.input = sentence;
    const std::vector<std::int32_t> src =
        cropped(source.encode(sentence), options.max_source_length);
    if (src.empty()) {
      page.examples.push_back(std::move(example));
      continue;
    }
    const IntTensor src_tensor = row_of(src);
    const IntTensor src_lengths =
        IntTensor::from_vector(Shape{1}, {static_cast<std::int32_t>(src.size())});
    const Hypothesis hypothesis = decode(model, src_tensor, src_lengths, decode_options).front();
    example.output = target.decode(hypothesis.tokens);
    example.alignment = hypothesis_alignment(hypothesis, src, source, target);

    // Teacher forcing on the produced output: every map of the model for this output.
    std::vector<std::int32_t> tgt_in{kBosId}, tgt_out = hypothesis.tokens;
    tgt_in.insert(tgt_in.end(), hypothesis.tokens.begin(), hypothesis.tokens.end());
    tgt_out.push_back(kEosId);
    Seq2SeqBatch batch{
        src_tensor, src_lengths, row_of(tgt_in), row_of(tgt_out),
        IntTensor::from_vector(Shape{1}, {static_cast<std::int32_t>(tgt_out.size())})};
    const Seq2SeqOutput forward =
        model.forward(batch, {.label_smoothing = 0.f, .return_attention = true});
    const TranslationTokens tokens{token_axis(source, src), token_axis(target, tgt_in),
                                   token_axis(target, tgt_out)};
    example.heatmaps = translation_heatmaps(forward.attention, 0, tokens, options.labels);
    limit_heatmaps(example, options.max_heatmap_tokens, page);
    page.examples.push_back(std::move(example));
  }
  return page;
}

AttentionPage classification_attention_page(ClassifierModel& model, const Tokenizer& tokenizer,
                                            const ClassifierSetup& setup,
                                            const std::vector<std::string>& texts,
                                            const AttentionRunOptions& options,
                                            const std::vector<int>& gold) {
  CHECK(static_cast<Index>(setup.class_names.size()) == model.num_classes(),
        "classification_attention_page: ", setup.class_names.size(), " class names for a model of ",
        model.num_classes(), " classes");
  CHECK(gold.empty() || gold.size() == texts.size(), "classification_attention_page: ", gold.size(),
        " gold labels for ", texts.size(), " texts");
  AttentionPage page;
  page.title = options.title;
  page.notes = run_notes(options, false);
  page.unit = options.labels.unit;
  EvalScope eval(model);
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    AttentionExample example;
    example.input = texts[i];
    ClassifierBatch batch;
    ClassifierTokens tokens;
    if (setup.hierarchical) {
      std::vector<std::vector<std::int32_t>> sentences;
      for (const std::string& s : split_document(texts[i], setup.limits)) {
        std::vector<std::int32_t> ids = cropped(tokenizer.encode(s), setup.max_length);
        if (!ids.empty()) sentences.push_back(std::move(ids));
      }
      if (sentences.empty()) sentences.push_back({kUnkId});
      std::size_t longest = 0;
      for (const auto& s : sentences) longest = std::max(longest, s.size());
      const auto N = static_cast<Index>(sentences.size()), L = static_cast<Index>(longest);
      batch.ids = IntTensor(Shape{1, N, L}, kPadId);
      batch.sentence_lengths = IntTensor(Shape{1, N}, 0);
      batch.num_sentences = IntTensor::from_vector(Shape{1}, {static_cast<std::int32_t>(N)});
      for (Index n = 0; n < N; ++n) {
        const auto& s = sentences[static_cast<std::size_t>(n)];
        std::copy(s.begin(), s.end(), batch.ids.data() + n * L);
        batch.sentence_lengths.data()[n] = static_cast<std::int32_t>(s.size());
        tokens.sentences.push_back(token_axis(tokenizer, s));
      }
    } else {
      std::vector<std::int32_t> ids = cropped(tokenizer.encode(texts[i]), setup.max_length);
      if (ids.empty()) ids.push_back(kUnkId);
      batch.ids = row_of(ids);
      batch.lengths = IntTensor::from_vector(Shape{1}, {static_cast<std::int32_t>(ids.size())});
      tokens.tokens = token_axis(tokenizer, ids);
    }
    const ClassifierOutput out = model.forward(batch, true);
    // Softmax of the logits (in double).
    const Index C = out.logits.size(1);
    const float* logits = out.logits.data();
    const float top = *std::max_element(logits, logits + C);
    double z = 0;
    for (Index c = 0; c < C; ++c) z += std::exp(static_cast<double>(logits[c] - top));
    example.classes.names = setup.class_names;
    for (Index c = 0; c < C; ++c)
      example.classes.probabilities.push_back(
          static_cast<float>(std::exp(static_cast<double>(logits[c] - top)) / z));
    example.classes.predicted = static_cast<int>(std::max_element(logits, logits + C) - logits);
    if (!gold.empty()) example.classes.gold = gold[i];
    add_classifier_attention(out.attention, 0, tokens, options.labels, example);
    limit_heatmaps(example, options.max_heatmap_tokens, page);
    page.examples.push_back(std::move(example));
  }
  return page;
}

void write_attention_page(const std::filesystem::path& path, Seq2SeqModel& model,
                          const Tokenizer& source, const Tokenizer& target,
                          const std::vector<std::string>& sentences,
                          const AttentionRunOptions& options) {
  write_attention_page(path, translation_attention_page(model, source, target, sentences, options));
}

void write_attention_page(const std::filesystem::path& path, ClassifierModel& model,
                          const Tokenizer& tokenizer, const ClassifierSetup& setup,
                          const std::vector<std::string>& texts,
                          const AttentionRunOptions& options) {
  write_attention_page(path,
                       classification_attention_page(model, tokenizer, setup, texts, options));
}

}  // namespace heed::viz
