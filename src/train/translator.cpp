// Translator: batching by source length, decoding, detokenization; corpus scores (translator.h).
#include "heed/train/translator.h"

#include <algorithm>
#include <numeric>

#include "heed/eval/bleu.h"
#include "heed/eval/chrf.h"
#include "heed/util/check.h"
#include "heed/viz/model_attention.h"

namespace heed {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

Translator::Translator(Tokenizer source, Tokenizer target, Seq2SeqModel& model)
    : source_(std::move(source)), target_(std::move(target)), model_(model) {}

std::vector<std::string> Translator::translate(const std::vector<std::string>& sources,
                                               const TranslateOptions& options,
                                               Progress* progress) const {
  std::vector<std::vector<std::int32_t>> ids(sources.size());
#pragma omp parallel for schedule(dynamic, 64)
  for (std::size_t i = 0; i < sources.size(); ++i) ids[i] = source_.encode(sources[i]);
  return translate_ids(ids, options, progress);
}

template <typename Done>
void Translator::decode_all(const std::vector<std::vector<std::int32_t>>& sources,
                            const TranslateOptions& options, Progress* progress, Done done) const {
  const auto N = static_cast<std::int64_t>(sources.size());
  auto length = [&](std::int64_t i) {
    const auto n = static_cast<std::int64_t>(sources[i].size());
    return options.max_source_length > 0 ? std::min<std::int64_t>(n, options.max_source_length) : n;
  };
  // Longest first (so a batch that does not fit memory shows at once), stable for equal lengths.
  std::vector<std::int64_t> order;
  for (std::int64_t i = 0; i < N; ++i) {
    if (length(i) > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return length(a) > length(b); });
  if (progress) progress->advance(N - static_cast<std::int64_t>(order.size()));

  const std::int64_t beam = std::max(1, options.decode.beam_size);
  std::size_t next = 0;
  while (next < order.size()) {
    // Sorted longest first: the first row's length is the batch's S.
    const std::int64_t S = length(order[next]);
    const std::int64_t rows =
        std::max<std::int64_t>(1, options.batch_tokens / std::max<std::int64_t>(1, S * beam));
    const std::size_t end = std::min(order.size(), next + static_cast<std::size_t>(rows));
    const auto B = static_cast<std::int64_t>(end - next);
    IntTensor src(Shape{B, S}, kPadId);
    IntTensor src_lengths(Shape{B});
    for (std::int64_t b = 0; b < B; ++b) {
      const std::int64_t i = order[next + b];
      const std::int64_t n = length(i);
      std::copy(sources[i].begin(), sources[i].begin() + n, src.data() + b * S);
      src_lengths.data()[b] = static_cast<std::int32_t>(n);
    }
    const std::vector<Hypothesis> hypotheses = decode(model_, src, src_lengths, options.decode);
    for (std::int64_t b = 0; b < B; ++b) {
      const std::int64_t i = order[next + b];
      done(i, hypotheses[b],
           std::vector<std::int32_t>(sources[i].begin(), sources[i].begin() + length(i)));
    }
    if (progress) progress->advance(B);
    next = end;
  }
}

std::vector<std::string> Translator::translate_ids(
    const std::vector<std::vector<std::int32_t>>& sources, const TranslateOptions& options,
    Progress* progress) const {
  std::vector<std::string> out(sources.size());
  decode_all(sources, options, progress,
             [&](std::int64_t i, const Hypothesis& h, const std::vector<std::int32_t>&) {
               out[i] = target_.decode(std::vector<std::int32_t>(h.tokens.begin(), h.tokens.end()));
             });
  return out;
}

std::vector<Translator::Aligned> Translator::translate_aligned(
    const std::vector<std::string>& sources, const TranslateOptions& options,
    Progress* progress) const {
  std::vector<std::vector<std::int32_t>> ids(sources.size());
#pragma omp parallel for schedule(dynamic, 64)
  for (std::size_t i = 0; i < sources.size(); ++i) ids[i] = source_.encode(sources[i]);
  TranslateOptions with_attention = options;
  with_attention.decode.return_attention = true;
  std::vector<Aligned> out(sources.size());
  decode_all(ids, with_attention, progress,
             [&](std::int64_t i, const Hypothesis& h, const std::vector<std::int32_t>& source) {
               out[i] = {
                   target_.decode(std::vector<std::int32_t>(h.tokens.begin(), h.tokens.end())),
                   viz::hypothesis_alignment(h, source, source_, target_)};
             });
  return out;
}

TranslationScores score_translations(const std::vector<std::string>& hypotheses,
                                     const std::vector<std::string>& references) {
  CHECK(hypotheses.size() == references.size(), "score_translations: ", hypotheses.size(),
        " hypotheses for ", references.size(), " references");
  CHECK(!hypotheses.empty(), "score_translations: nothing to score");
  std::vector<std::string> hyps, refs;
  std::int64_t exact = 0;
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    if (trim(hypotheses[i]) == trim(references[i])) ++exact;
    if (trim(references[i]).empty()) continue;
    hyps.push_back(hypotheses[i]);
    refs.push_back(references[i]);
  }
  TranslationScores scores;
  scores.exact_match = static_cast<double>(exact) / static_cast<double>(hypotheses.size());
  if (!refs.empty()) {
    const BleuScore bleu = corpus_bleu(hyps, refs);
    const ChrfScore chrf = corpus_chrf(hyps, refs);
    scores.bleu = bleu.score;
    scores.chrf = chrf.score;
    scores.bleu_signature = bleu.signature;
    scores.chrf_signature = chrf.signature;
  } else {
    scores.bleu_signature = bleu_signature();
    scores.chrf_signature = chrf_signature();
  }
  return scores;
}

}  // namespace heed
