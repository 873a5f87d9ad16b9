// Greedy decoding and beam search against a scripted model: its next-token distribution is a
// fixed function of the prefix, so every expected result can be worked out by hand.
#include "heed/models/decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "heed/autograd/grad_mode.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

constexpr int kA = 4, kB = 5;  // the two words of the hand-made cases (V = 6)

// Probabilities over the vocabulary for a key = {first source token, y1, y2, ...}.
using Key = std::vector<int>;
using Distribution = std::vector<float>;
using DistributionFn = std::function<Distribution(const Key&)>;

// A Seq2SeqModel without parameters. Row attention is one-hot at (Σ prefix tokens) mod |src|,
// so each hypothesis has its own attention path. It records what decoding asked of it.
class ScriptedModel : public Seq2SeqModel {
 public:
  ScriptedModel(Index vocab, DistributionFn distribution)
      : vocab_(vocab), distribution_(std::move(distribution)) {}

  Seq2SeqOutput forward(const Seq2SeqBatch&, const Seq2SeqLossOptions&) override {
    throw Error("ScriptedModel: no forward");
  }

  struct State : DecoderState {
    std::vector<Key> keys;
    std::vector<int> source_lengths;
    Index S = 0;
    bool started = false;
    Index rows() const override { return static_cast<Index>(keys.size()); }
  };

  std::unique_ptr<DecoderState> start(const IntTensor& src, const IntTensor& lengths) override {
    auto state = std::make_unique<State>();
    state->S = src.size(1);
    for (Index b = 0; b < src.size(0); ++b) {
      state->keys.push_back({src.data()[b * src.size(1)]});
      state->source_lengths.push_back(lengths.data()[b]);
    }
    return state;
  }

  DecoderStep step(DecoderState& base, const IntTensor& last_tokens) override {
    auto& state = static_cast<State&>(base);
    const Index N = state.rows();
    EXPECT_EQ(last_tokens.numel(), N);
    EXPECT_FALSE(GradMode::is_enabled());
    saw_training_ = saw_training_ || is_training();
    rows_per_step_.push_back(N);
    DecoderStep out{Tensor::empty(Shape{N, vocab_}), Tensor::zeros(Shape{N, state.S})};
    for (Index r = 0; r < N; ++r) {
      Key& key = state.keys[r];
      const int last = last_tokens.data()[r];
      if (state.started) {
        EXPECT_NE(last, kEosId) << "a finished hypothesis was extended";
        key.push_back(last);
      } else {
        EXPECT_EQ(last, kBosId);
      }
      const Distribution p = distribution_(key);
      for (Index v = 0; v < vocab_; ++v) out.log_probs.data()[r * vocab_ + v] = std::log(p[v]);
      int position = 0;
      for (size_t i = 1; i < key.size(); ++i) position += key[i];
      out.attention.data()[r * state.S + position % state.source_lengths[r]] = 1.f;
    }
    state.started = true;
    return out;
  }

  void select(DecoderState& base, const IntTensor& rows) override {
    auto& state = static_cast<State&>(base);
    State next;
    for (Index i = 0; i < rows.numel(); ++i) {
      next.keys.push_back(state.keys.at(rows.data()[i]));
      next.source_lengths.push_back(state.source_lengths.at(rows.data()[i]));
    }
    state.keys = std::move(next.keys);
    state.source_lengths = std::move(next.source_lengths);
  }

  Index vocab_size() const override { return vocab_; }

  const std::vector<Index>& rows_per_step() const { return rows_per_step_; }
  bool saw_training() const { return saw_training_; }

 private:
  Index vocab_;
  DistributionFn distribution_;
  std::vector<Index> rows_per_step_;
  bool saw_training_ = false;
};

// Distribution over {pad, unk, bos, eos, a, b}.
Distribution dist(float eos, float a, float b) { return {0.f, 0.f, 0.f, eos, a, b}; }

// A table lookup with a fallback for keys not in the table.
DistributionFn table(std::map<Key, Distribution> entries, Distribution fallback) {
  return [entries = std::move(entries), fallback](const Key& key) {
    auto it = entries.find(key);
    return it == entries.end() ? fallback : it->second;
  };
}

// A pseudo-random distribution per key over V tokens (words from 4 on), EOS likelier with
// every token so hypotheses end.
DistributionFn random_distribution(Index V, std::uint64_t seed) {
  return [V, seed](const Key& key) {
    std::uint64_t h = seed;
    for (int token : key) h = (h ^ static_cast<std::uint64_t>(token)) * 1099511628211ull;
    Rng rng(h);
    Distribution p(V, 0.f);
    float total = 0;
    for (Index v = kEosId; v < V; ++v) {
      const float u = rng.uniform();
      p[v] = u * u * u * (v == kEosId ? 0.5f * static_cast<float>(key.size()) : 1.f);
      total += p[v];
    }
    for (float& x : p) x /= total;
    return p;
  };
}

IntTensor sources(const std::vector<int>& first_tokens, const std::vector<int>& lengths, Index S) {
  IntTensor src(Shape{static_cast<Index>(first_tokens.size()), S}, kPadId);
  for (size_t b = 0; b < first_tokens.size(); ++b)
    for (int j = 0; j < lengths[b]; ++j) src.data()[b * S + j] = first_tokens[b] + j;
  return src;
}

IntTensor lengths_of(const std::vector<int>& lengths) {
  return IntTensor::from_vector(Shape{static_cast<Index>(lengths.size())}, lengths);
}

DecodeOptions options(int beam, float alpha, bool attention = false) {
  DecodeOptions o;
  o.beam_size = beam;
  o.length_penalty = alpha;
  o.return_attention = attention;
  return o;
}

// ----------------------------------------------------------------------------- hand-made cases

TEST(Decode, BeamFindsMoreProbableSequenceThanGreedy) {
  // Greedy takes a (0.5), then EOS (0.4): P = 0.2. Beam 2 also keeps b (0.4), after which EOS
  // has 0.9: P = 0.36. At step 1 both EOS candidates rank first (0.36, 0.2), the best live
  // hypothesis (a a, 0.15) cannot beat them, and the search stops.
  ScriptedModel model(6, table({{{kA}, dist(0.1f, 0.5f, 0.4f)},
                                {{kA, kA}, dist(0.4f, 0.3f, 0.3f)},
                                {{kA, kB}, dist(0.9f, 0.05f, 0.05f)}},
                               dist(0.5f, 0.25f, 0.25f)));
  const IntTensor src = sources({kA}, {1}, 1), lengths = lengths_of({1});

  const auto greedy = greedy_decode(model, src, lengths, options(1, 0.f));
  EXPECT_EQ(greedy[0].tokens, std::vector<int>{kA});
  EXPECT_FLOAT_EQ(greedy[0].log_prob, std::log(0.5f) + std::log(0.4f));
  EXPECT_FLOAT_EQ(greedy[0].score, greedy[0].log_prob);

  const size_t greedy_steps = model.rows_per_step().size();
  const auto beam = beam_search(model, src, lengths, options(2, 0.f));
  EXPECT_EQ(beam[0].tokens, std::vector<int>{kB});
  // Two steps: one row (the empty prefix), then the two live hypotheses; then it stops.
  EXPECT_EQ(
      std::vector<Index>(model.rows_per_step().begin() + greedy_steps, model.rows_per_step().end()),
      (std::vector<Index>{1, 2}));
  EXPECT_FLOAT_EQ(beam[0].log_prob, std::log(0.4f) + std::log(0.9f));
  EXPECT_GT(beam[0].log_prob, greedy[0].log_prob);
}

TEST(Decode, LengthPenaltyChangesTheWinner) {
  // Two hypotheses: [EOS] with P = 0.4 (|y| = 1) and [a EOS] with P = 0.6·0.6 = 0.36 (|y| = 2).
  //   α = 0:   log 0.4 = -0.916      vs  log 0.36 = -1.022        -> [EOS]
  //   α = 0.5: -0.916 / 1            vs  -1.022 / √2 = -0.722     -> [a EOS]
  //   α = 1:   -0.916 / 1            vs  -1.022 / 2 = -0.511      -> [a EOS]
  ScriptedModel model(6, table({{{kA}, dist(0.4f, 0.6f, 0.f)}, {{kA, kA}, dist(0.6f, 0.2f, 0.2f)}},
                               dist(0.5f, 0.25f, 0.25f)));
  const IntTensor src = sources({kA}, {1}, 1), lengths = lengths_of({1});
  const float short_lp = std::log(0.4f), long_lp = std::log(0.6f) + std::log(0.6f);

  auto best = beam_search(model, src, lengths, options(2, 0.f))[0];
  EXPECT_TRUE(best.tokens.empty());
  EXPECT_FLOAT_EQ(best.log_prob, short_lp);
  EXPECT_FLOAT_EQ(best.score, -0.91629073f);

  best = beam_search(model, src, lengths, options(2, 0.5f))[0];
  EXPECT_EQ(best.tokens, std::vector<int>{kA});
  EXPECT_FLOAT_EQ(best.log_prob, long_lp);
  EXPECT_FLOAT_EQ(best.score, -0.72241647f);

  best = beam_search(model, src, lengths, options(2, 1.f))[0];
  EXPECT_EQ(best.tokens, std::vector<int>{kA});
  EXPECT_FLOAT_EQ(best.score, -0.51082562f);
}

TEST(Decode, MaxLengthIsRespectedAndEndsWithForcedEos) {
  // EOS is unlikely (0.01) but the limit forces it: L = min(max_len, ⌊1.5·4 + 1⌋) = 7 tokens,
  // then EOS, whose log-probability counts. One step() per token plus one for EOS.
  ScriptedModel model(6, table({}, dist(0.01f, 0.99f, 0.f)));
  const IntTensor src = sources({kA}, {4}, 5), lengths = lengths_of({4});
  for (int beam : {1, 3}) {
    DecodeOptions o = options(beam, 1.f);
    o.max_len_a = 1.5f;
    o.max_len_b = 1;
    ScriptedModel fresh(6, table({}, dist(0.01f, 0.99f, 0.f)));
    const Hypothesis hyp = decode(fresh, src, lengths, o)[0];
    EXPECT_EQ(hyp.tokens, std::vector<int>(7, kA)) << "beam " << beam;
    float lp = 0.f;
    for (int i = 0; i < 7; ++i) lp += std::log(0.99f);
    lp += std::log(0.01f);
    EXPECT_FLOAT_EQ(hyp.log_prob, lp);
    EXPECT_FLOAT_EQ(hyp.score, lp / 8.f);
    EXPECT_EQ(fresh.rows_per_step().size(), 8u);

    o.max_len = 5;  // the absolute cap wins
    EXPECT_EQ(decode(model, src, lengths, o)[0].tokens.size(), 5u) << "beam " << beam;
    o.max_len = 0;  // EOS straight away
    EXPECT_TRUE(decode(model, src, lengths, o)[0].tokens.empty());
  }
}

TEST(Decode, EosEndsHypothesesAndFinishedSentencesLeaveTheBatch) {
  // Source starting with 10: EOS first (0.8). Source starting with 20: a, a, then EOS.
  ScriptedModel model(6, table({{{10}, dist(0.8f, 0.1f, 0.1f)},
                                {{20}, dist(0.1f, 0.8f, 0.1f)},
                                {{20, kA}, dist(0.1f, 0.8f, 0.1f)},
                                {{20, kA, kA}, dist(0.7f, 0.2f, 0.1f)}},
                               dist(0.9f, 0.05f, 0.05f)));
  const IntTensor src = sources({10, 20}, {2, 3}, 3), lengths = lengths_of({2, 3});
  const auto out = greedy_decode(model, src, lengths, options(1, 1.f, true));
  EXPECT_TRUE(out[0].tokens.empty());
  EXPECT_FLOAT_EQ(out[0].log_prob, std::log(0.8f));
  EXPECT_EQ(out[0].attention.shape(), (Shape{1, 2}));  // one row (EOS), cropped to |src| = 2
  EXPECT_EQ(out[1].tokens, (std::vector<int>{kA, kA}));
  EXPECT_FLOAT_EQ(out[1].log_prob, std::log(0.8f) + std::log(0.8f) + std::log(0.7f));
  EXPECT_FLOAT_EQ(out[1].score, out[1].log_prob / 3.f);
  // Sentence 0 finished at step 0 and was dropped from the state.
  EXPECT_EQ(model.rows_per_step(), (std::vector<Index>{2, 1, 1}));
}

TEST(Decode, GreedyRemovesFinishedRowsOnceTheyAreAQuarterOfTheBatch) {
  // Sentence i (source token 100 + i) ends after i tokens. Finished rows are removed when they
  // reach a quarter of the state's rows: 8, 8 (1 of 8 finished), 6 (2 removed), 6, 4, 3, 2, 1.
  ScriptedModel model(6, [](const Key& key) {
    return static_cast<int>(key.size()) - 1 == key[0] - 100 ? dist(0.9f, 0.05f, 0.05f)
                                                            : dist(0.05f, 0.9f, 0.05f);
  });
  std::vector<int> firsts, lens(8, 1);
  for (int i = 0; i < 8; ++i) firsts.push_back(100 + i);
  const auto out =
      greedy_decode(model, sources(firsts, lens, 1), lengths_of(lens), options(1, 1.f, true));
  EXPECT_EQ(model.rows_per_step(), (std::vector<Index>{8, 8, 6, 6, 4, 3, 2, 1}));
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(out[i].tokens, std::vector<int>(i, kA)) << i;
    EXPECT_FLOAT_EQ(out[i].log_prob, i * std::log(0.9f) + std::log(0.9f));
    EXPECT_EQ(out[i].attention.shape(), (Shape{i + 1, 1}));
  }
}

// ----------------------------------------------------------------------------- properties

TEST(Decode, BeamOfOneEqualsGreedy) {
  const IntTensor src = sources({30, 40, 50, 60, 70}, {3, 5, 1, 4, 2}, 5);
  const IntTensor lengths = lengths_of({3, 5, 1, 4, 2});
  for (float alpha : {0.f, 0.6f, 1.f, 1.5f}) {
    ScriptedModel model(12, random_distribution(12, 7));
    const auto greedy = greedy_decode(model, src, lengths, options(1, alpha, true));
    const auto beam = beam_search(model, src, lengths, options(1, alpha, true));
    for (size_t b = 0; b < greedy.size(); ++b) {
      EXPECT_EQ(beam[b].tokens, greedy[b].tokens) << "alpha " << alpha << ", sentence " << b;
      EXPECT_EQ(beam[b].log_prob, greedy[b].log_prob);
      EXPECT_EQ(beam[b].score, greedy[b].score);
      EXPECT_TRUE(testing::all_close(beam[b].attention, greedy[b].attention, 0, 0));
    }
  }
}

// Best hypothesis by exhaustive enumeration of every sequence within the length limit.
void exhaustive(const DistributionFn& p, Key key, float log_prob, int tokens, int limit,
                float alpha, Index V, Hypothesis& best) {
  const Distribution d = p(key);
  const float end = log_prob + std::log(d[kEosId]);
  const float score = end / std::pow(static_cast<float>(tokens + 1), alpha);
  if (score > best.score) {
    best.score = score;
    best.log_prob = end;
    best.tokens.assign(key.begin() + 1, key.end());
  }
  if (tokens == limit) return;
  for (int v = kEosId + 1; v < V; ++v) {
    key.push_back(v);
    exhaustive(p, key, log_prob + std::log(d[v]), tokens + 1, limit, alpha, V, best);
    key.pop_back();
  }
}

TEST(Decode, WideBeamFindsTheExactOptimum) {
  // 3 words, at most 4 tokens: 1 + 3 + 9 + 27 + 81 sequences. A beam of 108 (every candidate
  // of the widest step: 27 rows × 4 tokens) never prunes, and with α = 0 its stopping rule is
  // exact, so it must find the enumerated optimum.
  const Index V = 7;
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    const DistributionFn p = random_distribution(V, seed);
    ScriptedModel model(V, p);
    DecodeOptions o = options(108, 0.f);
    o.max_len = 4;
    const IntTensor src = sources({9, 19}, {2, 2}, 2), lengths = lengths_of({2, 2});
    const auto beam = beam_search(model, src, lengths, o);
    for (int b = 0; b < 2; ++b) {
      Hypothesis best;
      best.score = -INFINITY;
      exhaustive(p, {src.data()[b * 2]}, 0.f, 0, 4, 0.f, V, best);
      EXPECT_EQ(beam[b].tokens, best.tokens) << "seed " << seed << ", sentence " << b;
      EXPECT_NEAR(beam[b].log_prob, best.log_prob, 1e-5);
    }
  }
}

TEST(Decode, BatchedBeamSearchEqualsOneSentenceAtATime) {
  const std::vector<int> firsts{11, 22, 33, 44}, lens{4, 2, 6, 3};
  const IntTensor src = sources(firsts, lens, 6), lengths = lengths_of(lens);
  ScriptedModel model(10, random_distribution(10, 3));
  const auto batched = beam_search(model, src, lengths, options(4, 1.f, true));
  // All hypotheses of all sentences advance in one step() call: N <= B·K rows, and B·K once
  // every sentence has K live hypotheses.
  Index most = 0;
  for (Index n : model.rows_per_step()) most = std::max(most, n);
  EXPECT_EQ(model.rows_per_step()[0], 4);
  EXPECT_EQ(most, 16);
  for (size_t b = 0; b < firsts.size(); ++b) {
    ScriptedModel single(10, random_distribution(10, 3));
    const auto alone = beam_search(single, sources({firsts[b]}, {lens[b]}, lens[b]),
                                   lengths_of({lens[b]}), options(4, 1.f, true))[0];
    EXPECT_EQ(batched[b].tokens, alone.tokens) << "sentence " << b;
    EXPECT_EQ(batched[b].score, alone.score);
    EXPECT_TRUE(testing::all_close(batched[b].attention, alone.attention, 0, 0));
  }
}

TEST(Decode, AttentionFollowsTheChosenHypothesis) {
  // The scripted attention of a prefix is one-hot at (Σ tokens) mod |src|: the returned rows
  // must be those of the chosen hypothesis' own prefixes, cropped to its source length.
  const std::vector<int> lens{3, 5, 2};
  const IntTensor src = sources({5, 6, 7}, lens, 5), lengths = lengths_of(lens);
  for (int beam : {1, 3}) {
    ScriptedModel model(9, random_distribution(9, 11));
    const auto out = decode(model, src, lengths, options(beam, 1.f, true));
    for (size_t b = 0; b < out.size(); ++b) {
      const Hypothesis& h = out[b];
      const Index rows = static_cast<Index>(h.tokens.size()) + 1;
      ASSERT_EQ(h.attention.shape(), (Shape{rows, lens[b]}));
      std::vector<float> want(rows * lens[b], 0.f);
      int position = 0;
      for (Index t = 0; t < rows; ++t) {
        want[t * lens[b] + position % lens[b]] = 1.f;
        if (t + 1 < rows) position += h.tokens[t];
      }
      EXPECT_TRUE(testing::all_close(h.attention, want, 0, 0)) << "beam " << beam << ", " << b;
    }
    EXPECT_FALSE(decode(model, src, lengths, options(beam, 1.f, false))[0].attention.defined());
  }
}

TEST(Decode, RunsInEvalModeWithoutGradAndRestoresTheMode) {
  ScriptedModel model(8, random_distribution(8, 5));
  model.train();
  const IntTensor src = sources({3}, {2}, 2), lengths = lengths_of({2});
  decode(model, src, lengths, options(1, 1.f));
  decode(model, src, lengths, options(2, 1.f));
  EXPECT_FALSE(model.saw_training());
  EXPECT_TRUE(model.is_training());
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST(Decode, BadInputs) {
  ScriptedModel model(8, random_distribution(8, 5));
  const IntTensor src = sources({3, 4}, {2, 2}, 2);
  EXPECT_THROW_MSG(beam_search(model, src, lengths_of({2, 2}), options(0, 1.f)),
                   "beam_search: beam_size must be >= 1 (got 0)");
  EXPECT_THROW_MSG(greedy_decode(model, src, lengths_of({2}), options(1, 1.f)),
                   "greedy_decode: src_lengths must be [B] = [2]");
  EXPECT_THROW_MSG(greedy_decode(model, src, lengths_of({2, 3}), options(1, 1.f)),
                   "greedy_decode: src_lengths[1] = 3 is outside [0, S=2]");
  struct Liar : ScriptedModel {  // claims a vocabulary of 9, returns 8 log-probs
    using ScriptedModel::ScriptedModel;
    Index vocab_size() const override { return 9; }
  } liar(8, random_distribution(8, 5));
  EXPECT_THROW_MSG(greedy_decode(liar, src, lengths_of({2, 2}), options(1, 1.f)),
                   "greedy_decode: step() returned log_probs [2, 8], expected [rows, V] = [2, 9]");
}

}  // namespace
}  // namespace heed
