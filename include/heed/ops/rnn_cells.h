// Fused recurrent cells: the elementwise part of one GRU or LSTM step, forward and backward each
// in one pass. The matrix products stay outside (linear() from ops/matmul.h), so a layer can
// compute the input projection of all time steps in one GEMM and only h·W_hhᵀ per step:
//
//   gates_x = x · W_ihᵀ + b_ih        gates_h = h_prev · W_hhᵀ + b_hh
//
// Gate order and equations are PyTorch's, so torch.nn.GRU/LSTM weights load 1:1.
//
// Packed (variable-length) batches: `keep` [N] is 1 for a row that advances this step and 0 for
// a row past the end of its sequence, which holds its state unchanged (h = h_prev, c = c_prev)
// and passes its gradient straight through to h_prev/c_prev. Note the polarity: unlike heed's
// padding masks (1 = hide), `keep` names the rows that run. Undefined = every row advances.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// GRU step (Cho et al. 2014), gates (r, z, n) in thirds of the last dim:
//   r = σ(x_r + h_r)   z = σ(x_z + h_z)   n = tanh(x_n + r ⊙ h_n)   h = (1 − z) ⊙ n + z ⊙ h_prev
// where h_n includes b_hn (PyTorch's variant: r gates the whole hidden projection).
//   gates_x, gates_h [N, 3H], h_prev [N, H], keep [N] or undefined -> h [N, H]
Tensor gru_cell(const Tensor& gates_x, const Tensor& gates_h, const Tensor& h_prev,
                const Tensor& keep = Tensor());

// The state of an LSTM (both [N, H]).
struct LstmState {
  Tensor h;
  Tensor c;
};

// LSTM step (Hochreiter & Schmidhuber 1997, with forget gate), gates (i, f, g, o) in quarters:
//   i = σ(·)  f = σ(·)  g = tanh(·)  o = σ(·)  (each of x_k + h_k)
//   c = f ⊙ c_prev + i ⊙ g           h = o ⊙ tanh(c)
//   gates_x, gates_h [N, 4H], h_prev, c_prev [N, H], keep [N] or undefined -> {h, c} [N, H]
// h_prev is read only for held rows (keep = 0); a step whose rows all advance never uses it.
//
// One op, two outputs: the autograd graph gives each node one output tensor, so the kernel
// writes h and c into one packed [2, N, H] tensor and returns its halves as views (slices along
// the leading dim, which are contiguous: no copy). Splitting it into two ops (c, then h) would
// read the gates twice and recompute σ(o) and tanh(c); a packed [N, 2H] (h|c per row) would make
// h a strided slice, copied before every h·W_hhᵀ.
LstmState lstm_cell(const Tensor& gates_x, const Tensor& gates_h, const Tensor& h_prev,
                    const Tensor& c_prev, const Tensor& keep = Tensor());

}  // namespace heed
