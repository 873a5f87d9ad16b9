// Greedy and beam-search decoding over any Seq2SeqModel.
#pragma once

#include <vector>

#include "heed/models/seq2seq.h"

namespace heed {

struct DecodeOptions {
  int beam_size = 1;  // 1 = greedy
  // Final score = log P(y) / |y|^length_penalty (|y| counts EOS); 0 = raw log-probability,
  // 1 = per-token average (fairseq's lenpen convention).
  float length_penalty = 1.f;
  // Maximum output length = max_len_a · |source| + max_len_b (so an untrained model cannot
  // stall validation), and never more than max_len. Counted in tokens before EOS: a hypothesis
  // that reaches it is ended with EOS (whose log-probability counts).
  float max_len_a = 1.5f;
  int max_len_b = 10;
  int max_len = 256;
  bool return_attention = false;  // keep the [T, S] attention of the chosen hypothesis
};

struct Hypothesis {
  std::vector<int> tokens;  // without BOS and EOS
  float log_prob = 0.f;     // Σ log p of the tokens and EOS
  float score = 0.f;        // after the length penalty
  Tensor attention;         // [len(tokens) + 1, S] if requested (row per emitted token + EOS;
                            // S = this source's own length, padding columns dropped)
};

// One best hypothesis per source row (in batch order). Runs in eval mode under NoGradGuard.
std::vector<Hypothesis> greedy_decode(Seq2SeqModel& model, const IntTensor& src,
                                      const IntTensor& src_lengths, const DecodeOptions& options);
std::vector<Hypothesis> beam_search(Seq2SeqModel& model, const IntTensor& src,
                                    const IntTensor& src_lengths, const DecodeOptions& options);
// beam_size == 1 ? greedy_decode : beam_search.
std::vector<Hypothesis> decode(Seq2SeqModel& model, const IntTensor& src,
                               const IntTensor& src_lengths, const DecodeOptions& options);

}  // namespace heed
