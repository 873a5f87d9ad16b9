// Greedy and beam-search decoding over the incremental Seq2SeqModel interface.
//
// Both drive the model the same way: start() encodes the source batch once; each step() scores
// the next token for every live row — all hypotheses of all sentences in ONE call, N rows —
// and select() keeps, reorders and duplicates rows as hypotheses finish, split or are pruned.
//
// Length limit. Sentence i emits at most L_i = min(max_len, ⌊a·|src_i| + b⌋) tokens; a
// hypothesis holding L_i tokens must take EOS at the next step (as fairseq forces it). So every
// hypothesis ends with EOS, its log-probability includes that EOS, and |y| = tokens + 1.
//
// Score. log P(y) / |y|^α, α = length_penalty (α = 0: raw log-probability; α = 1: per token).
//
// Beam search (K = beam_size; the algorithm of fairseq's SequenceGenerator and Hugging Face's
// BeamSearchScorer). At each step every live hypothesis proposes its 2K best next tokens, and a
// sentence's candidates are ranked by cumulative log P (ties: lower row, then lower token id —
// the order greedy's argmax uses, so beam 1 makes exactly greedy's choices). Walking down the
// ranking, an EOS candidate ranked in the first K finishes a hypothesis (the sentence keeps its K
// best by score), an EOS ranked lower is dropped, and every other candidate becomes a live
// hypothesis of the next step until there are K. Each hypothesis proposes at most one EOS, so
// 2K candidates always leave K that are not EOS.
//
// Stopping. A sentence is done when it has K finished hypotheses and its best live one, scored
// as if it ended now (log P / n^α, n = its token count), does not beat the worst of them — or
// when it reaches its length limit. Extending a hypothesis only lowers log P, so for α ≤ 0 this
// is exact: no continuation can beat the finished ones. For α > 0 a long continuation of
// near-certain tokens could in principle still overtake them; a true bound (log P / (L+1)^α)
// would run every batch to its length limit, so this uses the standard criterion instead
// (Hugging Face's BeamHypotheses.is_done). With K = 1 it makes beam search equal greedy.
//
// Greedy. Each row takes its argmax (the lowest id on ties). Finished rows stay in the model's
// state, fed PAD with their outputs ignored, until they are a quarter of the rows; then select()
// removes them all at once (a select copies the model's state; stepping dead rows costs compute).
//
// History (beam search). Hypotheses are not copied while searching: each step records, per row, its
// last token, its parent row in the previous step and the step's attention; a finished hypothesis
// is read back along its parents.
#include "heed/models/decode.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "heed/autograd/grad_mode.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Puts a model in evaluation mode for one decoding call and restores its mode afterwards.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeGuard() { module_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

float length_penalized(float log_prob, Index length, float alpha) {
  if (alpha == 0.f) return log_prob;
  return log_prob / std::pow(static_cast<float>(length), alpha);
}

// Checks the inputs and returns L_i, the token limit of each sentence.
std::vector<int> token_limits(const IntTensor& src, const IntTensor& src_lengths,
                              const DecodeOptions& options, const char* fn) {
  CHECK(src.ndim() == 2 && src.size(0) > 0, fn, ": src must be a non-empty [B, S] (got ",
        src.shape(), ")");
  CHECK(src_lengths.ndim() == 1 && src_lengths.size(0) == src.size(0), fn,
        ": src_lengths must be [B] = [", src.size(0), "] (got ", src_lengths.shape(), ")");
  CHECK(options.beam_size >= 1, fn, ": beam_size must be >= 1 (got ", options.beam_size, ")");
  CHECK(options.max_len >= 0 && options.max_len_a >= 0.f, fn,
        ": max_len and max_len_a must be >= 0 (got ", options.max_len, ", ", options.max_len_a,
        ")");
  std::vector<int> limits(src.size(0));
  for (Index i = 0; i < src.size(0); ++i) {
    const int length = src_lengths.data()[i];
    CHECK(length >= 0 && length <= src.size(1), fn, ": src_lengths[", i, "] = ", length,
          " is outside [0, S=", src.size(1), "]");
    const double by_source = std::floor(options.max_len_a * length + options.max_len_b);
    limits[i] = static_cast<int>(std::clamp(by_source, 0.0, static_cast<double>(options.max_len)));
  }
  return limits;
}

void check_step(const DecoderStep& out, Index rows, Index V, Index S, const char* fn) {
  CHECK(out.log_probs.shape() == (Shape{rows, V}), fn, ": step() returned log_probs ",
        out.log_probs.shape(), ", expected [rows, V] = [", rows, ", ", V, "]");
  CHECK(!out.attention.defined() || out.attention.shape() == (Shape{rows, S}), fn,
        ": step() returned attention ", out.attention.shape(), ", expected [rows, S] = [", rows,
        ", ", S, "]");
}

// The k best tokens of each row of log_probs [N, V], best first; ties keep the lower token id
// first (a later equal value never displaces an earlier one), so k = 1 is the first argmax.
// values/tokens are [N, k]. Rows are independent: parallel, and the same for any thread count.
void top_k_rows(const float* log_probs, Index N, Index V, int k, float* values, int* tokens) {
#pragma omp parallel for schedule(static) if (N * V > kParallelGrain)
  for (Index r = 0; r < N; ++r) {
    const float* row = log_probs + r * V;
    float* val = values + r * k;
    int* tok = tokens + r * k;
    int count = 0;
    for (Index v = 0; v < V; ++v) {
      const float x = row[v];
      if (count == k && !(x > val[k - 1])) continue;
      int j = count < k ? count++ : k - 1;
      for (; j > 0 && val[j - 1] < x; --j) {
        val[j] = val[j - 1];
        tok[j] = tok[j - 1];
      }
      val[j] = x;
      tok[j] = static_cast<int>(v);
    }
  }
}

IntTensor int_tensor(const std::vector<int>& values) {
  return IntTensor::from_vector(Shape{static_cast<Index>(values.size())}, values);
}

bool is_identity(const std::vector<int>& rows, Index n) {
  if (static_cast<Index>(rows.size()) != n) return false;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i] != static_cast<int>(i)) return false;
  return true;
}

}  // namespace

// ------------------------------------------------------------------------------------ greedy

std::vector<Hypothesis> greedy_decode(Seq2SeqModel& model, const IntTensor& src,
                                      const IntTensor& src_lengths, const DecodeOptions& options) {
  const std::vector<int> limits = token_limits(src, src_lengths, options, "greedy_decode");
  NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  const Index B = src.size(0), S = src.size(1), V = model.vocab_size();

  std::vector<Hypothesis> result(B);
  std::vector<std::vector<float>> attention(options.return_attention ? B : 0);
  std::vector<int> sentence_of(B);  // sentence of each state row; -1: finished, awaiting removal
  std::iota(sentence_of.begin(), sentence_of.end(), 0);
  std::vector<int> last_tokens(B, kBosId), kept_rows, best(B);
  std::vector<float> best_value(B);
  bool have_attention = true;
  Index unfinished = B;

  std::unique_ptr<DecoderState> state = model.start(src, src_lengths);
  for (int t = 0; unfinished > 0; ++t) {
    const Index N = static_cast<Index>(sentence_of.size());
    const DecoderStep out = model.step(*state, int_tensor(last_tokens));
    check_step(out, N, V, S, "greedy_decode");
    const float* log_probs = out.log_probs.data();
    top_k_rows(log_probs, N, V, 1, best_value.data(), best.data());
    have_attention = have_attention && out.attention.defined();

    for (Index r = 0; r < N; ++r) {
      const int s = sentence_of[r];
      if (s < 0) continue;
      const int token = t >= limits[s] ? kEosId : best[r];
      Hypothesis& hyp = result[s];
      hyp.log_prob += log_probs[r * V + token];
      if (options.return_attention && have_attention) {
        const float* row = out.attention.data() + r * S;
        attention[s].insert(attention[s].end(), row, row + src_lengths.data()[s]);
      }
      last_tokens[r] = token;
      if (token != kEosId) {
        hyp.tokens.push_back(token);
        continue;
      }
      const Index length = static_cast<Index>(hyp.tokens.size()) + 1;
      hyp.score = length_penalized(hyp.log_prob, length, options.length_penalty);
      if (options.return_attention && have_attention)
        hyp.attention = Tensor::from_vector(Shape{length, src_lengths.data()[s]}, attention[s]);
      sentence_of[r] = -1;
      last_tokens[r] = kPadId;  // fed to the finished row until it is removed; output ignored
      --unfinished;
    }
    // Finished rows leave the state once they are a quarter of it (see the top of the file).
    if (unfinished == 0 || 4 * (N - unfinished) < N) continue;
    kept_rows.clear();
    for (Index r = 0; r < N; ++r)
      if (sentence_of[r] >= 0) kept_rows.push_back(static_cast<int>(r));
    std::vector<int> next_sentence(kept_rows.size()), next_tokens(kept_rows.size());
    for (size_t i = 0; i < kept_rows.size(); ++i) {
      next_sentence[i] = sentence_of[kept_rows[i]];
      next_tokens[i] = last_tokens[kept_rows[i]];
    }
    model.select(*state, int_tensor(kept_rows));
    sentence_of.swap(next_sentence);
    last_tokens.swap(next_tokens);
  }
  return result;
}

// ------------------------------------------------------------------------------- beam search

namespace {

struct Candidate {
  float log_prob;  // cumulative, including this token
  int row;         // the hypothesis (state row) it extends
  int token;
};

struct FinishedHypothesis {
  float score;
  float log_prob;
  int step;  // the step that emitted EOS
  int row;   // the row that emitted it
};

// One sentence's search: where its live hypotheses are in the state and what has finished.
struct SentenceSearch {
  int first_row = 0;
  int num_rows = 0;
  std::vector<FinishedHypothesis> finished;  // best score first, at most K
  bool done = false;
};

// What one step left behind, per row of that step.
struct StepRecord {
  std::vector<int> parent;  // row in the previous step (-1 at step 0)
  std::vector<int> token;   // last token of the row's prefix (BOS at step 0)
  Tensor attention;         // [rows, S] attention while scoring the next token, or undefined
};

// Keeps the K best by score; an equal score does not displace an earlier hypothesis.
void add_finished(SentenceSearch& sentence, const FinishedHypothesis& hyp, int K) {
  auto& list = sentence.finished;
  auto pos = std::upper_bound(list.begin(), list.end(), hyp,
                              [](const auto& a, const auto& b) { return a.score > b.score; });
  if (pos - list.begin() >= K) return;
  list.insert(pos, hyp);
  if (static_cast<int>(list.size()) > K) list.pop_back();
}

// Reads a finished hypothesis back along its parents: tokens, and with attention one row per
// step (the row that produced each token and EOS), cropped to the source's length.
Hypothesis trace_back(const std::vector<StepRecord>& history, const FinishedHypothesis& hyp,
                      Index source_length, bool with_attention) {
  Hypothesis out;
  out.log_prob = hyp.log_prob;
  out.score = hyp.score;
  with_attention = with_attention && history[hyp.step].attention.defined();
  const Index S = with_attention ? history[hyp.step].attention.size(1) : 0;
  const Index length = hyp.step + 1;
  std::vector<float> attention(with_attention ? length * source_length : 0);
  int row = hyp.row;
  for (int t = hyp.step; t >= 0; --t) {
    if (with_attention) {
      const float* a = history[t].attention.data() + row * S;
      std::copy(a, a + source_length, attention.begin() + t * source_length);
    }
    if (t > 0) out.tokens.push_back(history[t].token[row]);
    row = history[t].parent[row];
  }
  std::reverse(out.tokens.begin(), out.tokens.end());
  if (with_attention) out.attention = Tensor::from_vector(Shape{length, source_length}, attention);
  return out;
}

}  // namespace

std::vector<Hypothesis> beam_search(Seq2SeqModel& model, const IntTensor& src,
                                    const IntTensor& src_lengths, const DecodeOptions& options) {
  const std::vector<int> limits = token_limits(src, src_lengths, options, "beam_search");
  NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  const Index B = src.size(0), S = src.size(1), V = model.vocab_size();
  const int K = options.beam_size;
  const int k = static_cast<int>(std::min<Index>(2 * K, V));  // proposals per hypothesis
  const float alpha = options.length_penalty;

  // Step 0: one row per sentence, holding the empty prefix.
  std::vector<SentenceSearch> sentences(B);
  for (Index s = 0; s < B; ++s) {
    sentences[s].first_row = static_cast<int>(s);
    sentences[s].num_rows = 1;
  }
  std::vector<StepRecord> history(1);
  history[0].parent.assign(B, -1);
  history[0].token.assign(B, kBosId);
  std::vector<float> row_log_prob(B, 0.f);

  std::vector<float> top_values;
  std::vector<int> top_tokens;
  std::vector<Candidate> candidates;
  std::unique_ptr<DecoderState> state = model.start(src, src_lengths);
  for (int t = 0;; ++t) {
    StepRecord& now = history[t];
    const Index N = static_cast<Index>(now.token.size());
    DecoderStep out = model.step(*state, int_tensor(now.token));
    check_step(out, N, V, S, "beam_search");
    if (options.return_attention) now.attention = out.attention;
    const float* log_probs = out.log_probs.data();
    top_values.resize(N * k);
    top_tokens.resize(N * k);
    top_k_rows(log_probs, N, V, k, top_values.data(), top_tokens.data());

    StepRecord next;
    std::vector<float> next_log_prob;
    for (Index s = 0; s < B; ++s) {
      SentenceSearch& sentence = sentences[s];
      if (sentence.done) continue;
      const int rows_begin = sentence.first_row, rows_end = rows_begin + sentence.num_rows;
      if (t >= limits[s]) {  // length limit: every live hypothesis ends here with EOS
        for (int r = rows_begin; r < rows_end; ++r) {
          const float lp = row_log_prob[r] + log_probs[r * V + kEosId];
          add_finished(sentence, {length_penalized(lp, t + 1, alpha), lp, t, r}, K);
        }
        sentence.done = true;
        continue;
      }
      candidates.clear();
      for (int r = rows_begin; r < rows_end; ++r) {
        for (int j = 0; j < k; ++j) {
          const float lp = row_log_prob[r] + top_values[r * k + j];
          if (lp > kNegInf) candidates.push_back({lp, r, top_tokens[r * k + j]});
        }
      }
      const size_t ranked = std::min<size_t>(2 * K, candidates.size());
      std::partial_sort(candidates.begin(), candidates.begin() + ranked, candidates.end(),
                        [](const Candidate& a, const Candidate& b) {
                          if (a.log_prob != b.log_prob) return a.log_prob > b.log_prob;
                          if (a.row != b.row) return a.row < b.row;
                          return a.token < b.token;
                        });
      sentence.first_row = static_cast<int>(next.token.size());
      sentence.num_rows = 0;
      for (size_t rank = 0; rank < ranked && sentence.num_rows < K; ++rank) {
        const Candidate& c = candidates[rank];
        if (c.token == kEosId) {
          if (rank < static_cast<size_t>(K))
            add_finished(sentence,
                         {length_penalized(c.log_prob, t + 1, alpha), c.log_prob, t, c.row}, K);
          continue;
        }
        next.parent.push_back(c.row);
        next.token.push_back(c.token);
        next_log_prob.push_back(c.log_prob);
        ++sentence.num_rows;
      }
      // The live hypotheses hold t + 1 tokens; the best is the first (candidates are ranked).
      const bool beaten = sentence.num_rows > 0 &&
                          static_cast<int>(sentence.finished.size()) == K &&
                          length_penalized(next_log_prob[sentence.first_row], t + 1, alpha) <=
                              sentence.finished.back().score;
      if (sentence.num_rows == 0 || beaten) {
        sentence.done = true;
        next.parent.resize(sentence.first_row);
        next.token.resize(sentence.first_row);
        next_log_prob.resize(sentence.first_row);
        sentence.num_rows = 0;
      }
    }
    if (next.token.empty()) break;
    if (!is_identity(next.parent, N)) model.select(*state, int_tensor(next.parent));
    row_log_prob.swap(next_log_prob);
    history.push_back(std::move(next));
  }

  std::vector<Hypothesis> result(B);
  for (Index s = 0; s < B; ++s) {
    const auto& finished = sentences[s].finished;
    if (finished.empty()) {  // every continuation had probability 0
      result[s].log_prob = result[s].score = kNegInf;
      continue;
    }
    result[s] =
        trace_back(history, finished.front(), src_lengths.data()[s], options.return_attention);
  }
  return result;
}

std::vector<Hypothesis> decode(Seq2SeqModel& model, const IntTensor& src,
                               const IntTensor& src_lengths, const DecodeOptions& options) {
  return options.beam_size == 1 ? greedy_decode(model, src, src_lengths, options)
                                : beam_search(model, src, src_lengths, options);
}

}  // namespace heed
