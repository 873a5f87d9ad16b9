// TransformerSeq2Seq: the equations and parameter names are in include/heed/models/transformer.h.
#include "heed/models/transformer.h"

#include <cmath>
#include <numeric>

#include "heed/autograd/grad_mode.h"
#include "heed/ops/loss.h"
#include "heed/ops/matmul.h"
#include "heed/ops/reduce.h"
#include "heed/ops/shape_ops.h"
#include "heed/ops/softmax.h"
#include "heed/util/check.h"

namespace heed {
namespace {

const TransformerSeq2SeqOptions& checked(const TransformerSeq2SeqOptions& o) {
  CHECK(o.src_vocab > kEosId && o.tgt_vocab > kEosId,
        "TransformerSeq2Seq: src_vocab and tgt_vocab must hold the special tokens (> ", kEosId,
        "; got ", o.src_vocab, ", ", o.tgt_vocab, ")");
  CHECK(!o.shared_vocab || o.src_vocab == o.tgt_vocab,
        "TransformerSeq2Seq: shared_vocab needs src_vocab == tgt_vocab (got ", o.src_vocab, ", ",
        o.tgt_vocab, ")");
  CHECK(o.encoder_layers > 0 && o.decoder_layers > 0,
        "TransformerSeq2Seq: encoder_layers and decoder_layers must be > 0 (got ", o.encoder_layers,
        ", ", o.decoder_layers, ")");
  CHECK(o.max_len > 0, "TransformerSeq2Seq: max_len must be > 0 (got ", o.max_len, ")");
  return o;
}

std::unique_ptr<Embedding> make_embedding(Index vocab, const TransformerSeq2SeqOptions& o,
                                          Rng& rng) {
  EmbeddingOptions e;
  e.num_embeddings = vocab;
  e.dim = o.d_model;
  e.padding_idx = kPadId;
  e.scale_by_sqrt_dim = o.scale_embedding;
  return std::make_unique<Embedding>(e, rng);
}

PositionalOptions positional_options(const TransformerSeq2SeqOptions& o) {
  return {o.positional, o.max_len, o.d_model};
}

// [B, S] with 1 at the positions j >= lengths[b] (padding keys).
Tensor padding_mask(const IntTensor& lengths, Index S) {
  const Index B = lengths.size(0);
  Tensor mask = Tensor::empty(Shape{B, S});
  for (Index b = 0; b < B; ++b)
    for (Index j = 0; j < S; ++j) mask.data()[b * S + j] = j >= lengths.data()[b] ? 1.f : 0.f;
  return mask;
}

void check_source(const IntTensor& src, const IntTensor& src_lengths, Index max_len) {
  CHECK(src.ndim() == 2 && src.size(0) > 0 && src.size(1) > 0,
        "TransformerSeq2Seq: src must be a non-empty [B, S] (got ", src.shape(), ")");
  CHECK(src.size(1) <= max_len, "TransformerSeq2Seq: source length ", src.size(1),
        " exceeds max_len ", max_len);
  CHECK(src_lengths.ndim() == 1 && src_lengths.size(0) == src.size(0),
        "TransformerSeq2Seq: src_lengths must be [B] = [", src.size(0), "] (got ",
        src_lengths.shape(), ")");
  for (Index b = 0; b < src.size(0); ++b)
    CHECK(src_lengths.data()[b] >= 1 && src_lengths.data()[b] <= src.size(1),
          "TransformerSeq2Seq: src_lengths[", b, "] = ", src_lengths.data()[b],
          " is outside [1, S=", src.size(1), "]");
}

// The decoder state between steps: per-layer caches, the source padding mask, the position.
struct TransformerState : DecoderState {
  std::vector<TransformerDecoderLayerCache> caches;
  Tensor key_padding;              // [N, S]
  std::vector<int> source_of_row;  // the source sentence whose memory row r attends to
  Index position = 0;              // target position of the next step
  Index rows() const override { return key_padding.size(0); }
};

}  // namespace

TransformerSeq2Seq::TransformerSeq2Seq(const TransformerSeq2SeqOptions& options, std::uint64_t seed)
    : TransformerSeq2Seq(checked(options), Rng(seed)) {}

TransformerSeq2Seq::TransformerSeq2Seq(const TransformerSeq2SeqOptions& options, Rng rng)
    : options_(options),
      dropout_rng_(std::make_shared<Rng>(rng.fork())),
      src_embedding_(options.shared_vocab ? nullptr
                                          : make_embedding(options.src_vocab, options, rng)),
      tgt_embedding_(make_embedding(options.tgt_vocab, options, rng)),
      src_positional_(positional_options(options), rng),
      tgt_positional_(positional_options(options), rng),
      embedding_dropout_(options.dropout, dropout_rng_),
      encoder_(transformer_layer_options(options), options.encoder_layers, options.norm_first, rng,
               dropout_rng_),
      decoder_(transformer_layer_options(options), options.decoder_layers, options.norm_first, rng,
               dropout_rng_) {
  if (options.shared_vocab) {
    register_module("embedding", *tgt_embedding_);
  } else {
    register_module("src_embedding", *src_embedding_);
    register_module("tgt_embedding", *tgt_embedding_);
  }
  register_module("src_positional", src_positional_);
  register_module("tgt_positional", tgt_positional_);
  register_module("embedding_dropout", embedding_dropout_);
  register_module("encoder", encoder_);
  register_module("decoder", decoder_);
  if (!options.tie_output) {
    output_projection_ =
        std::make_unique<Linear>(LinearOptions{options.d_model, options.tgt_vocab, false}, rng);
    register_module("output_projection", *output_projection_);
  }
}

TransformerSeq2Seq::Encoded TransformerSeq2Seq::encode(const IntTensor& src,
                                                       const IntTensor& src_lengths,
                                                       bool return_attention) const {
  check_source(src, src_lengths, options_.max_len);
  const Embedding& embedding = src_embedding_ ? *src_embedding_ : *tgt_embedding_;
  const Tensor x = embedding_dropout_.forward(src_positional_.forward(embedding.forward(src)));
  Encoded out;
  out.key_padding = padding_mask(src_lengths, src.size(1));
  TransformerEncoderOutput e = encoder_.forward(x, out.key_padding, return_attention);
  out.memory = e.output;
  out.self_attention = std::move(e.self_attention);
  return out;
}

Tensor TransformerSeq2Seq::embed_target(const IntTensor& tokens, Index offset) const {
  return embedding_dropout_.forward(
      tgt_positional_.forward(tgt_embedding_->forward(tokens), offset));
}

Tensor TransformerSeq2Seq::project_output(const Tensor& y) const {
  return linear(y, output_projection_ ? output_projection_->weight_ : tgt_embedding_->weight_);
}

Tensor TransformerSeq2Seq::logits(const IntTensor& src, const IntTensor& src_lengths,
                                  const IntTensor& tgt_in) {
  CHECK(tgt_in.ndim() == 2 && tgt_in.size(0) == src.size(0),
        "TransformerSeq2Seq: tgt_in must be [B=", src.size(0), ", T] (got ", tgt_in.shape(), ")");
  const Encoded e = encode(src, src_lengths, false);
  TransformerDecoderMasks masks;
  masks.memory_key_padding = e.key_padding;
  return project_output(decoder_.forward(embed_target(tgt_in, 0), e.memory, masks).output);
}

Seq2SeqOutput TransformerSeq2Seq::forward(const Seq2SeqBatch& batch,
                                          const Seq2SeqLossOptions& options) {
  CHECK(batch.tgt_in.ndim() == 2 && batch.tgt_in.size(0) == batch.src.size(0) &&
            batch.tgt_out.shape() == batch.tgt_in.shape(),
        "TransformerSeq2Seq: tgt_in and tgt_out must both be [B=", batch.src.size(0), ", T] (got ",
        batch.tgt_in.shape(), ", ", batch.tgt_out.shape(), ")");
  const Encoded e = encode(batch.src, batch.src_lengths, options.return_attention);
  TransformerDecoderMasks masks;
  masks.memory_key_padding = e.key_padding;
  TransformerDecoderOutput d = decoder_.forward(embed_target(batch.tgt_in, 0), e.memory, masks,
                                                nullptr, options.return_attention);

  Seq2SeqOutput out;
  CrossEntropyOptions ce;
  ce.ignore_index = kPadId;
  ce.label_smoothing = options.label_smoothing;
  out.loss = cross_entropy(project_output(d.output), batch.tgt_out, ce);
  out.num_tokens = 0;
  for (std::int32_t t : batch.tgt_out.values()) out.num_tokens += t != kPadId;
  if (options.return_attention) {
    for (size_t i = 0; i < e.self_attention.size(); ++i)
      out.attention.push_back(
          {str("encoder.layers.", i, ".self_attn"), "self", e.self_attention[i]});
    for (size_t i = 0; i < d.self_attention.size(); ++i) {
      out.attention.push_back(
          {str("decoder.layers.", i, ".self_attn"), "self", d.self_attention[i]});
      out.attention.push_back(
          {str("decoder.layers.", i, ".multihead_attn"), "cross", d.cross_attention[i]});
    }
  }
  return out;
}

std::unique_ptr<DecoderState> TransformerSeq2Seq::start(const IntTensor& src,
                                                        const IntTensor& src_lengths) {
  NoGradGuard no_grad;
  Encoded e = encode(src, src_lengths, false);
  auto state = std::make_unique<TransformerState>();
  state->caches = decoder_.make_caches(e.memory);
  state->key_padding = e.key_padding;
  state->source_of_row.resize(src.size(0));
  std::iota(state->source_of_row.begin(), state->source_of_row.end(), 0);
  return state;
}

DecoderStep TransformerSeq2Seq::step(DecoderState& base, const IntTensor& last_tokens) {
  NoGradGuard no_grad;
  auto& state = static_cast<TransformerState&>(base);
  const Index N = state.rows();
  CHECK(last_tokens.numel() == N, "TransformerSeq2Seq: step got ", last_tokens.numel(),
        " tokens for ", N, " rows");
  CHECK(state.position < options_.max_len, "TransformerSeq2Seq: target position ", state.position,
        " exceeds max_len ", options_.max_len);
  const Tensor y = embed_target(last_tokens.with_shape(Shape{N, 1}), state.position);
  TransformerDecoderMasks masks;
  masks.memory_key_padding = state.key_padding;
  TransformerDecoderOutput d = decoder_.forward(y, Tensor(), masks, &state.caches);
  ++state.position;

  DecoderStep out;
  out.log_probs = log_softmax(reshape(project_output(d.output), Shape{N, options_.tgt_vocab}));
  const Tensor& cross = d.last_cross_attention;  // [N, H, 1, S]
  out.attention = reshape(mean(cross, 1), Shape{N, cross.size(3)});
  return out;
}

void TransformerSeq2Seq::select(DecoderState& base, const IntTensor& rows) {
  NoGradGuard no_grad;
  auto& state = static_cast<TransformerState&>(base);
  std::vector<int> source_of_row(rows.numel());
  for (Index r = 0; r < rows.numel(); ++r) {
    CHECK(rows.data()[r] >= 0 && rows.data()[r] < state.rows(), "TransformerSeq2Seq: select row ",
          rows.data()[r], " is outside [0, ", state.rows(), ")");
    source_of_row[r] = state.source_of_row[rows.data()[r]];
  }
  for (auto& cache : state.caches) cache.self_attn.select(rows);
  // The projected memory depends only on the source sentence. Beam search mostly reorders beams
  // within each sentence, which leaves every row's sentence where it was: no copy then.
  if (source_of_row == state.source_of_row) return;
  for (auto& cache : state.caches) cache.cross_attn.select(rows);
  state.key_padding = index_select(state.key_padding, 0, rows);
  state.source_of_row = std::move(source_of_row);
}

}  // namespace heed
