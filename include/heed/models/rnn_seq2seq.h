// RNN encoder–decoder with attention: Bahdanau et al. 2015 ("Neural Machine Translation by
// Jointly Learning to Align and Translate") or Luong et al. 2015 ("Effective Approaches to
// Attention-based Neural Machine Translation").
//
// Encoder (both kinds): source embeddings -> bidirectional GRU (encoder_hidden per direction,
// encoder_layers) -> annotations h_j = [→h_j; ←h_j] [B, S, 2·He]. The decoder's initial state is
// tanh(W_init [→h_last; ←h_first] + b) (Bahdanau appendix A.2.2 uses ←h_1 alone; the
// concatenation is the common variant, as in the PyTorch reference model).
//
// Bahdanau decoder (§3.1, appendix A.1): at step i, attention with the previous state s_{i-1}
// gives c_i; s_i = GRU([E y_{i-1}; c_i], s_{i-1}); logits = W_o [s_i; c_i; E y_{i-1}] + b_o.
// Luong decoder (§3): h_t = GRU([E y_{t-1}; h̃_{t-1}], h_{t-1}) (input feeding, §3.3; without it
// the input is E y_{t-1} alone), attention with h_t gives c_t, h̃_t = tanh(W_c [c_t; h_t]),
// logits = W_s h̃_t + b_s.
//
// Training (forward) runs the decoder over the whole target with teacher forcing, hoisting out
// of the time loop everything that does not depend on the recurrent state: the target
// embeddings and their part of the GRU input projection (one GEMM over all T·B rows), the key
// projection of the attention (once per batch), and the output layer + loss (one [T·B, ·] GEMM
// after the loop). Each step is then the attention, one or two small GEMMs and the fused GRU
// cell. Target positions past a sentence's end are ignored by the loss (and, the decoder being
// causal, influence nothing else); source padding is masked in the attention and skipped by the
// encoder, so a sentence's loss does not depend on how much padding its batch has.
//
// Parameter count of the reference Bahdanau configuration (emb 256, encoder 256 × 2, decoder
// 512, vocabularies 8000): 17,890,624, the same as the PyTorch reference (peer_torch.py gru).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

#include "heed/models/seq2seq.h"
#include "heed/nn/dropout.h"
#include "heed/nn/embedding.h"
#include "heed/nn/linear.h"
#include "heed/nn/rnn.h"
#include "heed/nn/rnn_attention.h"

namespace heed {

enum class RnnAttentionKind { kBahdanau, kLuong };

struct RnnSeq2SeqOptions {
  Index src_vocab = 0;
  Index tgt_vocab = 0;
  Index embedding_dim = 256;   // E, source and target
  Index encoder_hidden = 256;  // He, per direction (the encoder is a bidirectional GRU)
  int encoder_layers = 1;
  Index decoder_hidden = 512;  // Hd
  RnnAttentionKind attention = RnnAttentionKind::kBahdanau;
  Index attention_dim = 0;     // Bahdanau's A and Luong concat/local-p's; 0 = decoder_hidden
  LuongScore luong_score = LuongScore::kGeneral;
  bool local_p = false;        // Luong only (§3.2)
  Index window = 10;           // local-p's D
  bool hard_attention = false; // one source position per step (straight-through Gumbel)
  float temperature = 1.f;     // of the Gumbel-softmax
  bool input_feeding = true;   // Luong only (§3.3)
  // On the source and target embeddings and between encoder layers (training only).
  float dropout = 0.1f;
  // Output layer W = the target embedding matrix (Press & Wolf 2017), after a linear map of the
  // output features to E (the features are wider than E in both decoders).
  bool tie_output_embedding = false;
};

class RnnSeq2Seq : public Seq2SeqModel {
 public:
  // Parameters are initialized from Rng(seed); dropout and hard attention's Gumbel noise draw
  // from a generator derived from it, owned by the model (dropout_rng()).
  RnnSeq2Seq(const RnnSeq2SeqOptions& options, std::uint64_t seed);

  // Teacher-forced mean (label-smoothed) cross-entropy over non-padding targets. With
  // return_attention: "decoder.attention" (cross) [B, T, S].
  Seq2SeqOutput forward(const Seq2SeqBatch& batch, const Seq2SeqLossOptions& options) override;

  // Incremental decoding. step() returns log-probabilities [N, V] and the attention [N, S].
  std::unique_ptr<DecoderState> start(const IntTensor& src, const IntTensor& src_lengths) override;
  DecoderStep step(DecoderState& state, const IntTensor& last_tokens) override;
  void select(DecoderState& state, const IntTensor& rows) override;
  Index vocab_size() const override { return options_.tgt_vocab; }

  // Teacher-forced logits [B, T, V_tgt] for tgt_in (no loss), as forward() computes them.
  Tensor logits(const IntTensor& src, const IntTensor& src_lengths, const IntTensor& tgt_in);

  // The random stream of every dropout mask and Gumbel sample (save it in checkpoints).
  Rng& dropout_rng() { return *dropout_rng_; }
  const RnnSeq2SeqOptions& options() const { return options_; }

 private:
  RnnSeq2Seq(const RnnSeq2SeqOptions& options, Rng rng);  // rng: initialization

  struct EncoderMemory;
  struct StepInput;
  struct StepOutput;
  struct TeacherForced;
  class State;

  EncoderMemory encode(const IntTensor& src, const IntTensor& src_lengths) const;
  // The decoder GRU's input weights split by input: [3Hd, E] for the embedding and [3Hd, F] for
  // the fed part (Bahdanau's context, Luong's h̃), so that the embedding half can run over all
  // steps at once.
  std::pair<Tensor, Tensor> split_input_weights() const;
  StepOutput decoder_step(const StepInput& in, const EncoderMemory& memory,
                          const Tensor& feed_weight) const;
  Tensor attentional(const Tensor& context, const Tensor& state) const;  // Luong's h̃
  Tensor output_logits(const Tensor& features) const;
  TeacherForced teacher_forced(const IntTensor& src, const IntTensor& src_lengths,
                               const IntTensor& tgt_in, bool keep_attention) const;

  RnnSeq2SeqOptions options_;
  std::shared_ptr<Rng> dropout_rng_;
  Embedding src_embedding_;
  Embedding tgt_embedding_;
  Dropout embedding_dropout_;
  GRU encoder_;
  Linear bridge_;                              // W_init [Hd, 2·He]
  std::unique_ptr<BahdanauAttention> bahdanau_;  // one of the two
  std::unique_ptr<LuongAttention> luong_;
  GRUCell decoder_cell_;                       // input [E y; fed part], hidden Hd
  std::unique_ptr<Linear> combine_;            // Luong: W_c [Hd, 2·He + Hd], no bias
  std::unique_ptr<Linear> output_;             // untied: [V, F] + bias
  std::unique_ptr<Linear> output_bridge_;      // tied: [E, F], no bias
  Tensor output_bias_;                         // tied: [V]
};

}  // namespace heed
