#include "heed/nn/rnn.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "heed/nn/init.h"
#include "heed/ops/dropout.h"
#include "heed/ops/matmul.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"

namespace heed {
namespace {

// PyTorch's initialization for every recurrent parameter: U(-1/√H, 1/√H).
Tensor rnn_init(const Shape& shape, Index hidden_size, Rng& rng) {
  return init::uniform(shape, rng, 1.f / std::sqrt(static_cast<float>(hidden_size)));
}

void check_cell_options(const char* name, const RnnCellOptions& options) {
  CHECK(options.input_size > 0 && options.hidden_size > 0, name,
        ": input_size and hidden_size must be > 0 (got ", options.input_size, ", ",
        options.hidden_size, ")");
}

// x [N, I] and a state part [N, H] (undefined: zeros of that shape).
Tensor check_cell_input(const char* name, const char* what, const Tensor& x, const Tensor& state,
                        const RnnCellOptions& options) {
  CHECK(x.defined() && x.ndim() == 2 && x.size(1) == options.input_size, name,
        ": x must be [N, input_size=", options.input_size, "] (got ",
        x.defined() ? x.shape().to_string() : "undefined", ")");
  const Shape state_shape{x.size(0), options.hidden_size};
  if (!state.defined()) return Tensor::zeros(state_shape);
  CHECK(state.shape() == state_shape, name, ": ", what, " must be [N, hidden_size] = ", state_shape,
        " (got ", state.shape(), ")");
  return state;
}

// keep [T, B] = 1 while t < lengths[b]: the per-step masks of the fused cells. Undefined when
// every row runs all T steps (the cells then skip the mask).
Tensor keep_mask(const IntTensor& lengths, Index T) {
  if (!lengths.defined()) return Tensor();
  const Index B = lengths.numel();
  const std::int32_t* len = lengths.data();
  if (std::all_of(len, len + B, [T](std::int32_t n) { return n == T; })) return Tensor();
  Tensor keep = Tensor::empty(Shape{T, B});
  float* k = keep.data();
  for (Index t = 0; t < T; ++t)
    for (Index b = 0; b < B; ++b) k[t * B + b] = t < len[b] ? 1.f : 0.f;
  return keep;
}

// Row t of keep [T, B] as a [B] view (undefined stays undefined).
Tensor keep_at(const Tensor& keep, Index t) {
  if (!keep.defined()) return Tensor();
  const Index B = keep.size(1);
  return Tensor(keep.storage(), keep.storage_offset() + t * B, Shape{B});
}

// Slot k of an initial state [L·D, B, H] as [B, H] (a view), or zeros if undefined.
Tensor initial_state(const Tensor& s0, Index k, Index B, Index H) {
  if (!s0.defined()) return Tensor::zeros(Shape{B, H});
  return squeeze(slice(s0, 0, k, k + 1), 0);
}

}  // namespace

// ----------------------------------------------------------------------------- cells

GRUCell::GRUCell(const RnnCellOptions& options, Rng& rng) : options_(options) {
  check_cell_options("GRUCell", options);
  const Index I = options.input_size, H = options.hidden_size;
  weight_ih_ = register_parameter("weight_ih", rnn_init(Shape{3 * H, I}, H, rng));
  weight_hh_ = register_parameter("weight_hh", rnn_init(Shape{3 * H, H}, H, rng));
  if (options.bias) {
    bias_ih_ = register_parameter("bias_ih", rnn_init(Shape{3 * H}, H, rng));
    bias_hh_ = register_parameter("bias_hh", rnn_init(Shape{3 * H}, H, rng));
  }
}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) const {
  const Tensor h_prev = check_cell_input("GRUCell", "h", x, h, options_);
  return gru_cell(linear(x, weight_ih_, bias_ih_), linear(h_prev, weight_hh_, bias_hh_), h_prev);
}

LSTMCell::LSTMCell(const RnnCellOptions& options, Rng& rng) : options_(options) {
  check_cell_options("LSTMCell", options);
  const Index I = options.input_size, H = options.hidden_size;
  weight_ih_ = register_parameter("weight_ih", rnn_init(Shape{4 * H, I}, H, rng));
  weight_hh_ = register_parameter("weight_hh", rnn_init(Shape{4 * H, H}, H, rng));
  if (options.bias) {
    bias_ih_ = register_parameter("bias_ih", rnn_init(Shape{4 * H}, H, rng));
    bias_hh_ = register_parameter("bias_hh", rnn_init(Shape{4 * H}, H, rng));
  }
}

LstmState LSTMCell::forward(const Tensor& x, const LstmState& state) const {
  const Tensor h_prev = check_cell_input("LSTMCell", "h", x, state.h, options_);
  const Tensor c_prev = check_cell_input("LSTMCell", "c", x, state.c, options_);
  return lstm_cell(linear(x, weight_ih_, bias_ih_), linear(h_prev, weight_hh_, bias_hh_), h_prev,
                   c_prev);
}

// ----------------------------------------------------------------------------- layers

struct RecurrentLayer::Direction {
  std::vector<Tensor> outputs;  // [T] of [B, H], in time order
  Tensor h;                     // final state [B, H]
  Tensor c;                     // LSTM only
};

RecurrentLayer::RecurrentLayer(CellType cell, const RnnOptions& options, Rng& rng,
                               std::shared_ptr<Rng> dropout_rng)
    : cell_(cell), options_(options), dropout_rng_(std::move(dropout_rng)) {
  CHECK(options.input_size > 0 && options.hidden_size > 0, name(),
        ": input_size and hidden_size must be > 0 (got ", options.input_size, ", ",
        options.hidden_size, ")");
  CHECK(options.num_layers > 0, name(), ": num_layers must be > 0 (got ", options.num_layers, ")");
  CHECK(options.dropout >= 0.f && options.dropout < 1.f, name(),
        ": dropout must be in [0, 1) (got ", options.dropout, ")");
  CHECK(options.dropout == 0.f || dropout_rng_ != nullptr, name(),
        ": dropout > 0 needs a random generator");
  const Index H = options.hidden_size, G = (cell == CellType::kGru ? 3 : 4) * H;
  const int D = num_directions();
  // Registered in torch.nn.GRU/LSTM's order: per layer, per direction, w_ih w_hh b_ih b_hh.
  for (int layer = 0; layer < options.num_layers; ++layer) {
    const Index in = layer == 0 ? options.input_size : D * H;
    for (int direction = 0; direction < D; ++direction) {
      const std::string suffix = "_l" + std::to_string(layer) + (direction == 1 ? "_reverse" : "");
      RnnWeights w;
      w.weight_ih = register_parameter("weight_ih" + suffix, rnn_init(Shape{G, in}, H, rng));
      w.weight_hh = register_parameter("weight_hh" + suffix, rnn_init(Shape{G, H}, H, rng));
      if (options.bias) {
        w.bias_ih = register_parameter("bias_ih" + suffix, rnn_init(Shape{G}, H, rng));
        w.bias_hh = register_parameter("bias_hh" + suffix, rnn_init(Shape{G}, H, rng));
      }
      weights_.push_back(w);
    }
  }
}

// input [T, B, in] (time-major) -> one output [B, H] per step and the final state.
RecurrentLayer::Direction RecurrentLayer::run_direction(const Tensor& input,
                                                        const RnnWeights& weights, bool reverse,
                                                        const Tensor& keep, Tensor h,
                                                        Tensor c) const {
  const Index T = input.size(0);
  // The input projection of every step in one GEMM: [T, B, G·H].
  const Tensor gates_x_all = linear(input, weights.weight_ih, weights.bias_ih);
  Direction result;
  result.outputs.resize(T);
  for (Index s = 0; s < T; ++s) {
    const Index t = reverse ? T - 1 - s : s;
    const Tensor gates_x = squeeze(slice(gates_x_all, 0, t, t + 1), 0);  // [B, G·H], a view
    const Tensor gates_h = linear(h, weights.weight_hh, weights.bias_hh);
    if (cell_ == CellType::kGru) {
      h = gru_cell(gates_x, gates_h, h, keep_at(keep, t));
    } else {
      LstmState next = lstm_cell(gates_x, gates_h, h, c, keep_at(keep, t));
      h = next.h;
      c = next.c;
    }
    result.outputs[t] = h;
  }
  result.h = h;
  result.c = c;
  return result;
}

RnnOutput RecurrentLayer::run(const Tensor& x, const IntTensor& lengths, const Tensor& h0,
                              const Tensor& c0) const {
  const char* op = name();
  const bool lstm = cell_ == CellType::kLstm;
  CHECK(x.defined() && x.ndim() == 3 && x.size(2) == options_.input_size, op,
        ": x must be [B, T, input_size=", options_.input_size, "] (got ",
        x.defined() ? x.shape().to_string() : "undefined", ")");
  const Index B = x.size(0), T = x.size(1), H = options_.hidden_size;
  const int L = options_.num_layers, D = num_directions();
  CHECK(B > 0 && T > 0, op, ": empty batch ", x.shape());
  if (lengths.defined()) {
    CHECK(lengths.ndim() == 1 && lengths.size(0) == B, op, ": lengths must be [B] = [", B,
          "] (got ", lengths.shape(), ")");
    for (Index b = 0; b < B; ++b)
      CHECK(lengths.data()[b] >= 0 && lengths.data()[b] <= T, op, ": lengths[", b,
            "] = ", lengths.data()[b], " is outside [0, T=", T, "]");
  }
  const Shape state_shape{L * D, B, H};
  CHECK(!h0.defined() || h0.shape() == state_shape, op, ": h0 must be [L·D, B, H] = ", state_shape,
        " (got ", h0.defined() ? h0.shape().to_string() : "", ")");
  CHECK(!c0.defined() || c0.shape() == state_shape, op, ": c0 must be [L·D, B, H] = ", state_shape,
        " (got ", c0.defined() ? c0.shape().to_string() : "", ")");

  const Tensor keep = keep_mask(lengths, T);
  Tensor input = transpose(x, 0, 1);  // [T, B, I]: each step's rows contiguous
  Tensor output;                      // [B, T, D·H]
  std::vector<Tensor> h_n, c_n;       // [L·D] of [B, H]
  for (int layer = 0; layer < L; ++layer) {
    std::vector<Direction> directions;
    for (int direction = 0; direction < D; ++direction) {
      const Index k = layer * D + direction;
      directions.push_back(run_direction(input, weights(layer, direction), direction == 1, keep,
                                         initial_state(h0, k, B, H),
                                         lstm ? initial_state(c0, k, B, H) : Tensor()));
      h_n.push_back(directions.back().h);
      if (lstm) c_n.push_back(directions.back().c);
    }
    // [B, H] pieces in (t, direction) order, joined along dim 1, are [B, T, D·H] row-major.
    std::vector<Tensor> pieces;
    pieces.reserve(T * D);
    for (Index t = 0; t < T; ++t)
      for (const Direction& dir : directions) pieces.push_back(dir.outputs[t]);
    output = reshape(concat(pieces, 1), Shape{B, T, D * H});
    if (layer + 1 < L) {
      input = transpose(output, 0, 1);
      if (options_.dropout > 0.f && is_training())
        input = dropout(input, options_.dropout, true, *dropout_rng_);
    }
  }
  // Held rows carried their state through the padded positions; those outputs must read 0.
  // (Between layers they need no masking: the next layer's cells ignore held rows' gates, so
  // they neither affect it nor receive a gradient.)
  if (keep.defined()) {
    Tensor padding = Tensor::empty(Shape{B, T, 1});
    const float* k = keep.data();
    for (Index b = 0; b < B; ++b)
      for (Index t = 0; t < T; ++t) padding.data()[b * T + t] = 1.f - k[t * B + b];
    output = masked_fill(output, padding, 0.f);
  }
  RnnOutput result;
  result.output = output;
  result.h_n = reshape(concat(h_n, 0), state_shape);
  if (lstm) result.c_n = reshape(concat(c_n, 0), state_shape);
  return result;
}

GRU::GRU(const RnnOptions& options, Rng& rng, std::shared_ptr<Rng> dropout_rng)
    : RecurrentLayer(CellType::kGru, options, rng, std::move(dropout_rng)) {}

RnnOutput GRU::forward(const Tensor& x, const IntTensor& lengths, const Tensor& h0) const {
  return run(x, lengths, h0, Tensor());
}

LSTM::LSTM(const RnnOptions& options, Rng& rng, std::shared_ptr<Rng> dropout_rng)
    : RecurrentLayer(CellType::kLstm, options, rng, std::move(dropout_rng)) {}

RnnOutput LSTM::forward(const Tensor& x, const IntTensor& lengths, const Tensor& h0,
                        const Tensor& c0) const {
  return run(x, lengths, h0, c0);
}

}  // namespace heed
