#include "heed/models/rnn_seq2seq.h"

#include <tuple>
#include <vector>

#include "heed/autograd/grad_mode.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/loss.h"
#include "heed/ops/matmul.h"
#include "heed/ops/rnn_cells.h"
#include "heed/ops/shape_ops.h"
#include "heed/ops/softmax.h"
#include "heed/util/check.h"

namespace heed {
namespace {

Index fed_dim(const RnnSeq2SeqOptions& o) {
  if (o.attention == RnnAttentionKind::kBahdanau) return 2 * o.encoder_hidden;  // c_i
  return o.input_feeding ? o.decoder_hidden : 0;                                 // h̃_{t-1}
}

// Width of the output layer's input: [s_i; c_i; E y_{i-1}] or h̃_t.
Index feature_dim(const RnnSeq2SeqOptions& o) {
  if (o.attention == RnnAttentionKind::kBahdanau)
    return o.decoder_hidden + 2 * o.encoder_hidden + o.embedding_dim;
  return o.decoder_hidden;
}

Index attention_dim(const RnnSeq2SeqOptions& o) {
  return o.attention_dim > 0 ? o.attention_dim : o.decoder_hidden;
}

const RnnSeq2SeqOptions& checked(const RnnSeq2SeqOptions& o) {
  CHECK(o.src_vocab > 0 && o.tgt_vocab > 0, "RnnSeq2Seq: src_vocab and tgt_vocab must be > 0 (got ",
        o.src_vocab, ", ", o.tgt_vocab, ")");
  CHECK(o.tgt_vocab > kEosId, "RnnSeq2Seq: tgt_vocab must hold the special ids (got ", o.tgt_vocab,
        ")");
  CHECK(o.embedding_dim > 0 && o.encoder_hidden > 0 && o.decoder_hidden > 0,
        "RnnSeq2Seq: embedding_dim, encoder_hidden and decoder_hidden must be > 0 (got ",
        o.embedding_dim, ", ", o.encoder_hidden, ", ", o.decoder_hidden, ")");
  CHECK(o.encoder_layers > 0, "RnnSeq2Seq: encoder_layers must be > 0 (got ", o.encoder_layers,
        ")");
  CHECK(o.attention_dim >= 0, "RnnSeq2Seq: attention_dim must be >= 0 (got ", o.attention_dim,
        ")");
  CHECK(o.dropout >= 0.f && o.dropout < 1.f, "RnnSeq2Seq: dropout must be in [0, 1) (got ",
        o.dropout, ")");
  CHECK(!o.hard_attention || o.temperature > 0.f,
        "RnnSeq2Seq: temperature must be > 0 (got ", o.temperature, ")");
  CHECK(o.attention == RnnAttentionKind::kLuong || !o.local_p,
        "RnnSeq2Seq: local_p is a Luong attention option");
  return o;
}

// [B, T] -> [T, B] (decoder loops run time-major, so that step t is a contiguous block).
IntTensor transpose_ids(const IntTensor& ids) {
  const Index B = ids.size(0), T = ids.size(1);
  IntTensor out(Shape{T, B});
  for (Index b = 0; b < B; ++b)
    for (Index t = 0; t < T; ++t) out.data()[t * B + b] = ids.data()[b * T + t];
  return out;
}

// [B, S] with 1 at positions s >= lengths[b] (heed's masks mark what to hide).
Tensor padding_mask(const IntTensor& lengths, Index S) {
  const Index B = lengths.numel();
  Tensor mask = Tensor::empty(Shape{B, S});
  for (Index b = 0; b < B; ++b)
    for (Index s = 0; s < S; ++s) mask.data()[b * S + s] = s < lengths.data()[b] ? 0.f : 1.f;
  return mask;
}

void check_source(const IntTensor& src, const IntTensor& src_lengths) {
  CHECK(src.defined() && src.ndim() == 2 && src.size(0) > 0 && src.size(1) > 0,
        "RnnSeq2Seq: src must be a non-empty [B, S] (got ",
        src.defined() ? src.shape().to_string() : "undefined", ")");
  const Index B = src.size(0), S = src.size(1);
  CHECK(src_lengths.defined() && src_lengths.shape() == Shape({B}),
        "RnnSeq2Seq: src_lengths must be [B] = [", B, "] (got ",
        src_lengths.defined() ? src_lengths.shape().to_string() : "undefined", ")");
  for (Index b = 0; b < B; ++b)
    CHECK(src_lengths.data()[b] >= 1 && src_lengths.data()[b] <= S, "RnnSeq2Seq: src_lengths[",
          b, "] = ", src_lengths.data()[b], " is outside [1, S=", S, "]");
}

}  // namespace

// What the decoder reads from the encoder at every step.
struct RnnSeq2Seq::EncoderMemory {
  Tensor keys;           // annotations [B, S, 2·He]
  Tensor keys_proj;      // attention.precompute(keys)
  Tensor mask;           // [B, S], 1 at padding
  Tensor initial_state;  // [B, Hd]
};

struct RnnSeq2Seq::StepInput {
  Tensor gates_emb;  // [N, 3Hd]: E y_{t-1} · W_ieᵀ + b_ih
  Tensor state;      // s_{t-1} [N, Hd]
  Tensor feed;       // Luong with input feeding: h̃_{t-1} [N, Hd]
};

struct RnnSeq2Seq::StepOutput {
  Tensor state;        // s_t [N, Hd]
  Tensor context;      // c_t [N, 2·He]
  Tensor weights;      // [N, S]
  Tensor attentional;  // Luong with input feeding: h̃_t (otherwise computed after the loop)
};

struct RnnSeq2Seq::TeacherForced {
  Tensor logits;     // [T·B, V], time-major
  Tensor attention;  // [T·B, S] if requested
};

class RnnSeq2Seq::State : public DecoderState {
 public:
  Index rows() const override { return state.size(0); }
  EncoderMemory memory;
  Tensor state;        // s_{t-1}
  Tensor feed;         // h̃_{t-1} (Luong, input feeding)
  Tensor emb_weight;   // the split decoder input weights (see split_input_weights)
  Tensor feed_weight;
};

RnnSeq2Seq::RnnSeq2Seq(const RnnSeq2SeqOptions& options, std::uint64_t seed)
    : RnnSeq2Seq(options, Rng(seed)) {}

RnnSeq2Seq::RnnSeq2Seq(const RnnSeq2SeqOptions& options, Rng rng)
    : options_(checked(options)),
      dropout_rng_(std::make_shared<Rng>(rng.fork())),
      // Embeddings N(0, 1), torch.nn.Embedding's default (no √d scaling in these models).
      src_embedding_({.num_embeddings = options.src_vocab,
                      .dim = options.embedding_dim,
                      .padding_idx = kPadId,
                      .init_stddev = 1.f},
                     rng),
      tgt_embedding_({.num_embeddings = options.tgt_vocab,
                      .dim = options.embedding_dim,
                      .padding_idx = kPadId,
                      .init_stddev = 1.f},
                     rng),
      embedding_dropout_(options.dropout, dropout_rng_),
      encoder_({.input_size = options.embedding_dim,
                .hidden_size = options.encoder_hidden,
                .num_layers = options.encoder_layers,
                .bidirectional = true,
                .dropout = options.dropout},
               rng, dropout_rng_),
      bridge_({.in_features = 2 * options.encoder_hidden, .out_features = options.decoder_hidden},
              rng),
      decoder_cell_({.input_size = options.embedding_dim + fed_dim(options),
                     .hidden_size = options.decoder_hidden},
                    rng) {
  const Index Hd = options.decoder_hidden, C = 2 * options.encoder_hidden;
  register_module("src_embedding", src_embedding_);
  register_module("tgt_embedding", tgt_embedding_);
  register_module("embedding_dropout", embedding_dropout_);
  register_module("encoder", encoder_);
  register_module("bridge", bridge_);
  if (options.attention == RnnAttentionKind::kBahdanau) {
    bahdanau_ = std::make_unique<BahdanauAttention>(
        BahdanauAttentionOptions{.query_dim = Hd,
                                 .key_dim = C,
                                 .attention_dim = attention_dim(options),
                                 .hard = options.hard_attention,
                                 .temperature = options.temperature},
        rng, dropout_rng_);
    register_module("attention", *bahdanau_);
  } else {
    luong_ = std::make_unique<LuongAttention>(
        LuongAttentionOptions{.score = options.luong_score,
                              .query_dim = Hd,
                              .key_dim = C,
                              .attention_dim = attention_dim(options),
                              .local_p = options.local_p,
                              .window = options.window,
                              .hard = options.hard_attention,
                              .temperature = options.temperature},
        rng, dropout_rng_);
    register_module("attention", *luong_);
    combine_ = std::make_unique<Linear>(
        LinearOptions{.in_features = C + Hd, .out_features = Hd, .bias = false}, rng);
  }
  register_module("decoder_cell", decoder_cell_);
  if (combine_) register_module("combine", *combine_);
  const Index F = feature_dim(options);
  if (options.tie_output_embedding) {
    output_bridge_ = std::make_unique<Linear>(
        LinearOptions{.in_features = F, .out_features = options.embedding_dim, .bias = false},
        rng);
    register_module("output_bridge", *output_bridge_);
    output_bias_ = register_parameter("output_bias", Tensor::zeros(Shape{options.tgt_vocab}));
  } else {
    output_ = std::make_unique<Linear>(
        LinearOptions{.in_features = F, .out_features = options.tgt_vocab}, rng);
    register_module("output", *output_);
  }
}

// ----------------------------------------------------------------------------- encoder

RnnSeq2Seq::EncoderMemory RnnSeq2Seq::encode(const IntTensor& src,
                                             const IntTensor& src_lengths) const {
  check_source(src, src_lengths);
  const Index B = src.size(0), S = src.size(1), He = options_.encoder_hidden;
  const RnnOutput encoded =
      encoder_.forward(embedding_dropout_.forward(src_embedding_.forward(src)), src_lengths);
  // The last layer's final states: forward at each row's last token, backward at t = 0.
  const int last = 2 * (options_.encoder_layers - 1);
  const Tensor final_states = slice(encoded.h_n, 0, last, last + 2);  // [2, B, He]
  const Tensor both = reshape(transpose(final_states, 0, 1), Shape{B, 2 * He});
  EncoderMemory memory;
  memory.keys = encoded.output;
  memory.keys_proj =
      bahdanau_ ? bahdanau_->precompute(memory.keys) : luong_->precompute(memory.keys);
  memory.mask = padding_mask(src_lengths, S);
  memory.initial_state = tanh(bridge_.forward(both));
  return memory;
}

// ----------------------------------------------------------------------------- decoder

std::pair<Tensor, Tensor> RnnSeq2Seq::split_input_weights() const {
  const Index E = options_.embedding_dim, F = fed_dim(options_);
  const Tensor& w = decoder_cell_.weight_ih_;  // [3Hd, E + F]
  if (F == 0) return {w, Tensor()};
  return {slice(w, 1, 0, E), slice(w, 1, E, E + F)};
}

// Luong eq. (5): h̃_t = tanh(W_c [c_t; h_t]).
Tensor RnnSeq2Seq::attentional(const Tensor& context, const Tensor& state) const {
  return tanh(combine_->forward(concat({context, state}, -1)));
}

RnnSeq2Seq::StepOutput RnnSeq2Seq::decoder_step(const StepInput& in, const EncoderMemory& memory,
                                                const Tensor& feed_weight) const {
  const GRUCell& cell = decoder_cell_;
  const Tensor gates_h = linear(in.state, cell.weight_hh_, cell.bias_hh_);
  StepOutput out;
  if (bahdanau_) {
    // Bahdanau §3.1: c_i = attend(s_{i-1}), then s_i = GRU([E y_{i-1}; c_i], s_{i-1}).
    const RnnAttentionOutput attention =
        bahdanau_->forward(in.state, memory.keys, memory.keys_proj, memory.mask);
    const Tensor gates_x = add(in.gates_emb, linear(attention.context, feed_weight));
    out.state = gru_cell(gates_x, gates_h, in.state);
    out.context = attention.context;
    out.weights = attention.weights;
    return out;
  }
  // Luong §3.3: h_t = GRU([E y_{t-1}; h̃_{t-1}], h_{t-1}), then c_t = attend(h_t).
  const Tensor gates_x = options_.input_feeding
                             ? add(in.gates_emb, linear(in.feed, feed_weight))
                             : in.gates_emb;
  out.state = gru_cell(gates_x, gates_h, in.state);
  const RnnAttentionOutput attention =
      luong_->forward(out.state, memory.keys, memory.keys_proj, memory.mask);
  out.context = attention.context;
  out.weights = attention.weights;
  if (options_.input_feeding) out.attentional = attentional(out.context, out.state);
  return out;
}

Tensor RnnSeq2Seq::output_logits(const Tensor& features) const {
  if (output_) return output_->forward(features);
  return linear(output_bridge_->forward(features), tgt_embedding_.weight_, output_bias_);
}

RnnSeq2Seq::TeacherForced RnnSeq2Seq::teacher_forced(const IntTensor& src,
                                                     const IntTensor& src_lengths,
                                                     const IntTensor& tgt_in,
                                                     bool keep_attention) const {
  const Index B = src.defined() ? src.size(0) : 0;
  CHECK(tgt_in.defined() && tgt_in.ndim() == 2 && tgt_in.size(0) == B && tgt_in.size(1) > 0,
        "RnnSeq2Seq: tgt_in must be [B=", B, ", T] (got ",
        tgt_in.defined() ? tgt_in.shape().to_string() : "undefined", ")");
  const EncoderMemory memory = encode(src, src_lengths);
  const Index T = tgt_in.size(1), Hd = options_.decoder_hidden;

  // Hoisted: all target embeddings [T, B, E] and their GRU input projection [T, B, 3Hd].
  const Tensor embedded =
      embedding_dropout_.forward(tgt_embedding_.forward(transpose_ids(tgt_in)));
  const auto [emb_weight, feed_weight] = split_input_weights();
  const Tensor gates_emb = linear(embedded, emb_weight, decoder_cell_.bias_ih_);

  std::vector<Tensor> states, contexts, weights, attentionals;
  StepInput in;
  in.state = memory.initial_state;
  if (luong_ && options_.input_feeding) in.feed = Tensor::zeros(Shape{B, Hd});  // h̃_0 = 0
  for (Index t = 0; t < T; ++t) {
    in.gates_emb = squeeze(slice(gates_emb, 0, t, t + 1), 0);  // a view
    StepOutput out = decoder_step(in, memory, feed_weight);
    in.state = out.state;
    in.feed = out.attentional;
    states.push_back(out.state);
    contexts.push_back(out.context);
    if (keep_attention) weights.push_back(out.weights);
    if (out.attentional.defined()) attentionals.push_back(out.attentional);
  }

  // Hoisted: the output layer over all T·B rows at once.
  Tensor features;
  if (bahdanau_) {
    features = concat({concat(states, 0), concat(contexts, 0), reshape(embedded, std::vector<Index>{T * B, -1})},
                      1);
  } else if (options_.input_feeding) {
    features = concat(attentionals, 0);
  } else {
    features = attentional(concat(contexts, 0), concat(states, 0));
  }
  TeacherForced result;
  result.logits = output_logits(features);
  if (keep_attention) result.attention = concat(weights, 0);
  return result;
}

Seq2SeqOutput RnnSeq2Seq::forward(const Seq2SeqBatch& batch, const Seq2SeqLossOptions& options) {
  TeacherForced tf =
      teacher_forced(batch.src, batch.src_lengths, batch.tgt_in, options.return_attention);
  const Index B = batch.tgt_in.size(0), T = batch.tgt_in.size(1);
  CHECK(batch.tgt_out.defined() && batch.tgt_out.shape() == batch.tgt_in.shape(),
        "RnnSeq2Seq: tgt_out must be shaped like tgt_in ", batch.tgt_in.shape(), " (got ",
        batch.tgt_out.defined() ? batch.tgt_out.shape().to_string() : "undefined", ")");
  const IntTensor targets = transpose_ids(batch.tgt_out);  // time-major, like the logits
  Seq2SeqOutput out;
  out.loss = cross_entropy(tf.logits, targets.with_shape(Shape{T * B}),
                           {.ignore_index = kPadId, .label_smoothing = options.label_smoothing});
  out.num_tokens = 0;
  for (std::int32_t id : targets.values()) out.num_tokens += id != kPadId;
  if (options.return_attention) {
    const Index S = batch.src.size(1);
    const Tensor weights = tf.attention.detach().with_shape(Shape{T, B, S});
    NoGradGuard no_grad;
    out.attention.push_back({"decoder.attention", "cross", transpose(weights, 0, 1)});
  }
  return out;
}

Tensor RnnSeq2Seq::logits(const IntTensor& src, const IntTensor& src_lengths,
                          const IntTensor& tgt_in) {
  TeacherForced tf = teacher_forced(src, src_lengths, tgt_in, false);
  const Index B = tgt_in.size(0), T = tgt_in.size(1);
  return transpose(reshape(tf.logits, Shape{T, B, options_.tgt_vocab}), 0, 1);
}

// ----------------------------------------------------------------------------- decoding

std::unique_ptr<DecoderState> RnnSeq2Seq::start(const IntTensor& src,
                                                const IntTensor& src_lengths) {
  auto state = std::make_unique<State>();
  state->memory = encode(src, src_lengths);
  state->state = state->memory.initial_state;
  if (luong_ && options_.input_feeding)
    state->feed = Tensor::zeros(Shape{src.size(0), options_.decoder_hidden});
  std::tie(state->emb_weight, state->feed_weight) = split_input_weights();
  return state;
}

DecoderStep RnnSeq2Seq::step(DecoderState& decoder_state, const IntTensor& last_tokens) {
  State& state = static_cast<State&>(decoder_state);
  const Index N = state.rows();
  CHECK(last_tokens.defined() && last_tokens.shape() == Shape({N}),
        "RnnSeq2Seq::step: last_tokens must be [N] = [", N, "] (got ",
        last_tokens.defined() ? last_tokens.shape().to_string() : "undefined", ")");
  const Tensor embedded = embedding_dropout_.forward(tgt_embedding_.forward(last_tokens));
  StepInput in;
  in.gates_emb = linear(embedded, state.emb_weight, decoder_cell_.bias_ih_);
  in.state = state.state;
  in.feed = state.feed;
  const StepOutput out = decoder_step(in, state.memory, state.feed_weight);
  state.state = out.state;
  state.feed = out.attentional;
  Tensor features;
  if (bahdanau_)
    features = concat({out.state, out.context, embedded}, 1);
  else
    features = out.attentional.defined() ? out.attentional : attentional(out.context, out.state);
  return {log_softmax(output_logits(features), -1), out.weights};
}

void RnnSeq2Seq::select(DecoderState& decoder_state, const IntTensor& rows) {
  State& state = static_cast<State&>(decoder_state);
  const Index N = state.rows();
  CHECK(rows.defined() && rows.ndim() == 1, "RnnSeq2Seq::select: rows must be 1-D");
  for (std::int32_t r : rows.values())
    CHECK(r >= 0 && r < N, "RnnSeq2Seq::select: row ", r, " is outside [0, ", N, ")");
  auto pick = [&rows](Tensor& t) {
    if (t.defined()) t = index_select(t, 0, rows);
  };
  pick(state.memory.keys);
  pick(state.memory.keys_proj);
  pick(state.memory.mask);
  pick(state.state);
  pick(state.feed);
}

}  // namespace heed
