// The interface every translation model implements (Transformer, RNN + Bahdanau/Luong).
//
// Training uses loss(); decoding (greedy and beam search, models/decode.h) uses the incremental
// interface: start() encodes a source batch once, step() scores the next token for every live
// row given the previous one, select() reorders/duplicates rows as beams are pruned.
#pragma once

#include <memory>

#include "heed/models/attention_map.h"
#include "heed/nn/module.h"
#include "heed/tensor/special_ids.h"

namespace heed {


// A padded batch for teacher-forced training: tgt_in = BOS y1..yn, tgt_out = y1..yn EOS.
struct Seq2SeqBatch {
  IntTensor src;          // [B, S], padded with kPadId
  IntTensor src_lengths;  // [B]
  IntTensor tgt_in;       // [B, T]
  IntTensor tgt_out;      // [B, T], kPadId where there is no target
  IntTensor tgt_lengths;  // [B]
};

struct Seq2SeqLossOptions {
  float label_smoothing = 0.f;
  bool return_attention = false;  // fill Seq2SeqOutput::attention (costs memory)
};

struct Seq2SeqOutput {
  Tensor loss;        // scalar: mean cross-entropy over non-padding target tokens
  Index num_tokens;   // non-padding target tokens in the batch
  AttentionMaps attention;
};

// Per-row decoder state between steps (encoder outputs, RNN hidden state, KV caches...).
class DecoderState {
 public:
  virtual ~DecoderState() = default;
  virtual Index rows() const = 0;
};

struct DecoderStep {
  Tensor log_probs;  // [N, V] log-probabilities of the next token
  Tensor attention;  // [N, S] source attention of this step (heads/layers averaged as the model
                     // documents), or undefined if the model has none
};

class Seq2SeqModel : public Module {
 public:
  // Teacher-forced loss (and optionally the attention maps) for a batch.
  virtual Seq2SeqOutput forward(const Seq2SeqBatch& batch, const Seq2SeqLossOptions& options) = 0;

  // Incremental decoding; called under NoGradGuard in eval mode.
  virtual std::unique_ptr<DecoderState> start(const IntTensor& src,
                                              const IntTensor& src_lengths) = 0;
  virtual DecoderStep step(DecoderState& state, const IntTensor& last_tokens) = 0;
  // Keeps rows `rows` of the state, in that order (rows may repeat: a beam splits).
  virtual void select(DecoderState& state, const IntTensor& rows) = 0;

  virtual Index vocab_size() const = 0;
};

}  // namespace heed
