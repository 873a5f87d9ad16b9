// The Transformer encoder–decoder for translation (Vaswani et al. 2017, §3).
//
//   encoder:  x = dropout(embed_src(src)·s + PE)          s = √d_model if scale_embedding (§3.4)
//             x = EncoderLayer_N(...EncoderLayer_1(x))     source padding keys masked
//             memory = norm(x)                             final LayerNorm only with norm_first
//   decoder:  y = dropout(embed_tgt(tgt_in)·s + PE)
//             y = DecoderLayer_N(...(y, memory))           causal self-attention, cross-attention
//             y = norm(y)                                  (norm_first only)
//   logits = y · Wᵀ, W = the target embedding (tie_output, Press & Wolf 2017) or a separate
//            [V_tgt, D] projection (no bias)
//   loss   = mean over non-padding targets of the label-smoothed cross-entropy
//
// Parameter names: "embedding.weight" (shared_vocab) or "src_embedding.weight" /
// "tgt_embedding.weight"; "src_positional.weight" / "tgt_positional.weight" (learned positions
// only); "encoder.layers.<i>.*", "encoder.norm.*", "decoder.layers.<i>.*", "decoder.norm.*"
// (torch.nn.Transformer's names); "output_projection.weight" (without tie_output).
//
// Decoding: start() encodes the source and projects the memory into every decoder layer's
// cross-attention cache; step() runs the decoder on one new position per row with self-attention
// KV caches; DecoderStep::attention is the last decoder layer's cross-attention averaged over its
// heads.
#pragma once

#include <cstdint>
#include <memory>

#include "heed/models/seq2seq.h"
#include "heed/nn/embedding.h"
#include "heed/nn/linear.h"
#include "heed/nn/positional.h"
#include "heed/nn/transformer.h"

namespace heed {

struct TransformerSeq2SeqOptions {
  Index src_vocab = 0;
  Index tgt_vocab = 0;
  bool shared_vocab = false;  // one embedding for source and target (src_vocab == tgt_vocab)
  bool tie_output = true;     // output projection = target embedding
  Index d_model = 512;
  Index num_heads = 8;
  int encoder_layers = 6;
  int decoder_layers = 6;
  Index dim_feedforward = 2048;
  float dropout = 0.1f;
  Activation activation = Activation::kRelu;
  bool norm_first = false;
  PositionalKind positional = PositionalKind::kSinusoidal;
  Index max_len = 1024;         // longest source or target (positions)
  bool scale_embedding = true;  // multiply embeddings by √d_model
};

class TransformerSeq2Seq : public Seq2SeqModel {
 public:
  // Parameters are initialized from Rng(seed); dropout draws from a generator derived from it,
  // owned by the model (dropout_rng()).
  TransformerSeq2Seq(const TransformerSeq2SeqOptions& options, std::uint64_t seed);

  // Teacher-forced mean label-smoothed cross-entropy over non-padding targets. With
  // return_attention, maps for every layer: "encoder.layers.<i>.self_attn" (self),
  // "decoder.layers.<i>.self_attn" (self), "decoder.layers.<i>.multihead_attn" (cross), each
  // [B, H, T, S].
  Seq2SeqOutput forward(const Seq2SeqBatch& batch, const Seq2SeqLossOptions& options) override;

  std::unique_ptr<DecoderState> start(const IntTensor& src, const IntTensor& src_lengths) override;
  DecoderStep step(DecoderState& state, const IntTensor& last_tokens) override;
  void select(DecoderState& state, const IntTensor& rows) override;
  Index vocab_size() const override { return options_.tgt_vocab; }

  // Teacher-forced logits [B, T, V_tgt] for tgt_in (no loss), as forward() computes them.
  Tensor logits(const IntTensor& src, const IntTensor& src_lengths, const IntTensor& tgt_in);

  // The dropout stream shared by every dropout site (save it in checkpoints).
  Rng& dropout_rng() { return *dropout_rng_; }
  const TransformerSeq2SeqOptions& options() const { return options_; }

 private:
  TransformerSeq2Seq(const TransformerSeq2SeqOptions& options, Rng rng);  // rng: initialization

  struct Encoded {
    Tensor memory;       // [B, S, D]
    Tensor key_padding;  // [B, S], 1 at padding
    std::vector<Tensor> self_attention;
  };
  Encoded encode(const IntTensor& src, const IntTensor& src_lengths, bool return_attention) const;
  Tensor embed_target(const IntTensor& tokens, Index offset) const;
  Tensor project_output(const Tensor& y) const;  // [..., D] -> [..., V_tgt]

  TransformerSeq2SeqOptions options_;
  std::shared_ptr<Rng> dropout_rng_;
  std::unique_ptr<Embedding> src_embedding_;  // null with shared_vocab
  std::unique_ptr<Embedding> tgt_embedding_;  // the shared one with shared_vocab
  PositionalEncoding src_positional_, tgt_positional_;
  Dropout embedding_dropout_;
  TransformerEncoder encoder_;
  TransformerDecoder decoder_;
  std::unique_ptr<Linear> output_projection_;  // null with tie_output
};

}  // namespace heed
