// Recurrent layers: GRUCell and LSTMCell (one step, for decoders that interleave attention) and
// GRU and LSTM (whole sequences: stacked layers, optionally bidirectional, variable lengths).
//
// Parameters carry torch.nn's names and layouts, so weights transfer 1:1 by name:
//   cells:   weight_ih [G·H, I], weight_hh [G·H, H], bias_ih [G·H], bias_hh [G·H]
//   layers:  weight_ih_l{k}[_reverse], weight_hh_l{k}[_reverse], bias_ih_l{k}[_reverse], ...
// with G = 3 gates (r, z, n) for GRU and 4 (i, f, g, o) for LSTM, all initialized
// U(-1/√H, 1/√H) as PyTorch does. Tensors are batch-first ([B, T, ·]).
//
// Variable lengths (like a PyTorch PackedSequence): positions t ≥ lengths[b] leave row b's state
// unchanged and their outputs are exactly zero; the reverse direction starts at each row's own
// last real token, t = lengths[b] − 1. So padding a batch never changes its real outputs.
#pragma once

#include <memory>
#include <vector>

#include "heed/nn/module.h"
#include "heed/ops/rnn_cells.h"

namespace heed {

// ----------------------------------------------------------------------------- cells

struct RnnCellOptions {
  Index input_size = 0;   // I
  Index hidden_size = 0;  // H
  bool bias = true;
};

class GRUCell : public Module {
 public:
  GRUCell(const RnnCellOptions& options, Rng& rng);
  // x [N, I], h [N, H] (undefined: zeros) -> the next h [N, H]
  Tensor forward(const Tensor& x, const Tensor& h = Tensor()) const;

  const RnnCellOptions& options() const { return options_; }
  Tensor weight_ih_;  // [3H, I], rows r | z | n
  Tensor weight_hh_;  // [3H, H]
  Tensor bias_ih_;    // [3H]; undefined if !options.bias
  Tensor bias_hh_;    // [3H]

 private:
  RnnCellOptions options_;
};

class LSTMCell : public Module {
 public:
  LSTMCell(const RnnCellOptions& options, Rng& rng);
  // x [N, I], state {h, c} each [N, H] (undefined: zeros) -> the next {h, c}
  LstmState forward(const Tensor& x, const LstmState& state = {}) const;

  const RnnCellOptions& options() const { return options_; }
  Tensor weight_ih_;  // [4H, I], rows i | f | g | o
  Tensor weight_hh_;  // [4H, H]
  Tensor bias_ih_;    // [4H]; undefined if !options.bias
  Tensor bias_hh_;    // [4H]

 private:
  RnnCellOptions options_;
};

// ----------------------------------------------------------------------------- layers

struct RnnOptions {
  Index input_size = 0;   // I
  Index hidden_size = 0;  // H
  int num_layers = 1;     // L
  bool bidirectional = false;
  float dropout = 0.f;  // on the output of every layer but the last, in training mode
  bool bias = true;
};

struct RnnOutput {
  Tensor output;  // [B, T, D·H] (D = 2 directions if bidirectional), 0 at padded positions;
                  // features [forward | reverse] as in PyTorch
  Tensor h_n;     // [L·D, B, H], index layer·D + direction: the forward state at each row's
                  // last real token, the reverse state at t = 0
  Tensor c_n;     // LSTM only: the cell states, like h_n
};

// The parameters of one layer and direction.
struct RnnWeights {
  Tensor weight_ih;  // [G·H, in] with in = I for layer 0, D·H above
  Tensor weight_hh;  // [G·H, H]
  Tensor bias_ih;    // [G·H]; undefined if !options.bias
  Tensor bias_hh;    // [G·H]
};

// What GRU and LSTM share: the parameters, the checks and the time loop. Per layer and
// direction the input projection of all time steps is one GEMM ([T·B, in] · W_ihᵀ, computed
// time-major so that step t is a contiguous view); each step then costs one h·W_hhᵀ GEMM and
// one fused cell (ops/rnn_cells.h).
class RecurrentLayer : public Module {
 public:
  const RnnOptions& options() const { return options_; }
  int num_directions() const { return options_.bidirectional ? 2 : 1; }
  const RnnWeights& weights(int layer, int direction) const {
    return weights_[layer * num_directions() + direction];
  }

 protected:
  enum class CellType { kGru, kLstm };
  // `dropout_rng` is needed only when options.dropout > 0 (shared with the model's other
  // dropout sites, like nn::Dropout's).
  RecurrentLayer(CellType cell, const RnnOptions& options, Rng& rng,
                 std::shared_ptr<Rng> dropout_rng);
  RnnOutput run(const Tensor& x, const IntTensor& lengths, const Tensor& h0,
                const Tensor& c0) const;

 private:
  struct Direction;  // one direction's per-step outputs and final state
  Direction run_direction(const Tensor& input, const RnnWeights& weights, bool reverse,
                          const Tensor& keep, Tensor h, Tensor c) const;
  const char* name() const { return cell_ == CellType::kGru ? "GRU" : "LSTM"; }

  CellType cell_;
  RnnOptions options_;
  std::vector<RnnWeights> weights_;  // index layer·D + direction
  std::shared_ptr<Rng> dropout_rng_;
};

class GRU : public RecurrentLayer {
 public:
  GRU(const RnnOptions& options, Rng& rng, std::shared_ptr<Rng> dropout_rng = nullptr);
  // x [B, T, I]; lengths [B], each in [0, T] (undefined: all T); h0 [L·D, B, H] (undefined:
  // zeros). A row of length 0 outputs zeros and keeps h0.
  RnnOutput forward(const Tensor& x, const IntTensor& lengths = IntTensor(),
                    const Tensor& h0 = Tensor()) const;
};

class LSTM : public RecurrentLayer {
 public:
  LSTM(const RnnOptions& options, Rng& rng, std::shared_ptr<Rng> dropout_rng = nullptr);
  // As GRU::forward, with c0 [L·D, B, H] (undefined: zeros); fills RnnOutput::c_n.
  RnnOutput forward(const Tensor& x, const IntTensor& lengths = IntTensor(),
                    const Tensor& h0 = Tensor(), const Tensor& c0 = Tensor()) const;
};

}  // namespace heed
