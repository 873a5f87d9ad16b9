// Fused GRU and LSTM cells (declared in ops/rnn_cells.h).
//
// GRU (Cho et al. 2014, PyTorch's variant), per row and j < H, gates in thirds r | z | n:
//   r = σ(x_r + h_r)   z = σ(x_z + h_z)   n = tanh(x_n + r·h_n)   h = n + z·(h_prev − n)
// backward from dh:
//   dn = dh·(1 − z)    dz = dh·(h_prev − n)    dh_prev = dh·z
//   da_n = dn·(1 − n²)          -> dgates_x_n = da_n,  dgates_h_n = da_n·r
//   da_r = da_n·h_n·r·(1 − r)   -> dgates_x_r = dgates_h_r
//   da_z = dz·z·(1 − z)         -> dgates_x_z = dgates_h_z
// Saved: r, z, n (an [N, 3H] scratch the forward writes), gates_h (for h_n), h_prev.
//
// LSTM (Hochreiter & Schmidhuber 1997; Gers et al. 2000 forget gate), quarters i | f | g | o:
//   c = f·c_prev + i·g   h = o·tanh(c)     written packed: out [2, N, H] = (h, c)
// backward from dh, dc (the two halves of the packed gradient):
//   dc' = dc + dh·o·(1 − tanh²c)    dc_prev = dc'·f
//   da_i = dc'·g·i(1 − i)   da_f = dc'·c_prev·f(1 − f)   da_g = dc'·i·(1 − g²)
//   da_o = dh·tanh(c)·o(1 − o)
//   dgates_x = dgates_h = da (each pre-activation is x_k + h_k)
// Saved: i, f, g, o, tanh c (an [N, 5H] scratch), c_prev.
//
// Held rows (keep = 0) copy the state forward and, backward, pass dh (dc) to h_prev (c_prev)
// with zero gate gradients. Each pass is one OpenMP loop over rows with a vectorized loop over
// H; σ and tanh come from kernels/fast_math.h (glibc's are scalar calls).
#include "heed/ops/rnn_cells.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#include "heed/autograd/node.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/fast_math.h"

namespace heed {
namespace {

using kernels::fast_sigmoid;
using kernels::fast_tanh;

// A cell element costs tens of flops (three σ/tanh forward), not one: worth threads well below
// the elementwise grain.
constexpr Index kCellParallelGrain = kParallelGrain / 8;

// One input's gradient buffer as a backward kernel sees it: write (accumulate = false) or add.
// An input that needs no gradient gets a scratch buffer, so the kernels' inner loops have no
// branches on which gradients are wanted.
struct GradOut {
  float* data;
  bool accumulate;
  Tensor buffer;  // keeps the gradient (or scratch) buffer alive during the kernel
};

GradOut grad_out(Node& node, int input, const Shape& shape) {
  if (!node.needs_grad(input)) {
    Tensor scratch = Tensor::empty(shape);
    return {scratch.data(), false, scratch};
  }
  Node::Slot slot = node.grad_slot(input);
  return {slot.tensor.data(), slot.accumulate, slot.tensor};
}

// A GradOut seen from one row, for the vectorized loops: put(j, v) stores v + old, where old is
// the buffer's value ANDed with an all-ones (accumulate) or all-zeros (write) bit mask. A
// bitwise AND vectorizes where `accumulate ? old : 0` does not (GCC will not vectorize a select
// on a scalar condition), and a fresh buffer's garbage, even NaN, masks to +0.
class GradRow {
 public:
  GradRow(const GradOut& g, Index offset)
      : data_(g.data + offset), keep_bits_(g.accumulate ? ~0u : 0u) {}
  void put(Index j, float v) const {
    data_[j] = v + std::bit_cast<float>(std::bit_cast<std::uint32_t>(data_[j]) & keep_bits_);
  }

 private:
  float* data_;
  std::uint32_t keep_bits_;
};

// Shapes shared by both cells: h_prev [N, H], gates [N, G·H], c_prev [N, H], keep [N].
struct CellDims {
  Index N, H;
};

CellDims check_cell(const char* op, Index gates, const Tensor& gates_x, const Tensor& gates_h,
                    const Tensor& h_prev, const Tensor* c_prev, const Tensor& keep) {
  CHECK(
      gates_x.defined() && gates_h.defined() && h_prev.defined() && (!c_prev || c_prev->defined()),
      op, ": undefined input");
  CHECK(h_prev.ndim() == 2, op, ": h_prev must be [N, H] (got ", h_prev.shape(), ")");
  const Index N = h_prev.size(0), H = h_prev.size(1);
  const Shape gates_shape{N, gates * H};
  CHECK(gates_x.shape() == gates_shape, op, ": gates_x must be [N, ", gates, "·H] = ", gates_shape,
        " for h_prev ", h_prev.shape(), " (got ", gates_x.shape(), ")");
  CHECK(gates_h.shape() == gates_shape, op, ": gates_h must be [N, ", gates, "·H] = ", gates_shape,
        " for h_prev ", h_prev.shape(), " (got ", gates_h.shape(), ")");
  if (c_prev)
    CHECK(c_prev->shape() == h_prev.shape(), op, ": c_prev ", c_prev->shape(),
          " must have h_prev's shape ", h_prev.shape());
  if (keep.defined())
    CHECK(keep.ndim() == 1 && keep.size(0) == N, op, ": keep must be [N] = [", N, "] (got ",
          keep.shape(), ")");
  return {N, H};
}

// ----------------------------------------------------------------------------- GRU

// h [N, H] from gates_x, gates_h [N, 3H] and h_prev; act [N, 3H] = (r | z | n) if kSave.
template <bool kSave>
void gru_cell_forward(const float* gx, const float* gh, const float* h_prev, const float* keep,
                      Index N, Index H, float* h, float* act) {
#pragma omp parallel for schedule(static) if (N * H > kCellParallelGrain)
  for (Index row = 0; row < N; ++row) {
    const float* hp = h_prev + row * H;
    float* out = h + row * H;
    if (keep && keep[row] == 0.f) {
      std::copy_n(hp, H, out);
      continue;
    }
    const float* x = gx + row * 3 * H;
    const float* g = gh + row * 3 * H;
    float* a = kSave ? act + row * 3 * H : nullptr;
#pragma omp simd
    for (Index j = 0; j < H; ++j) {
      const float r = fast_sigmoid(x[j] + g[j]);
      const float z = fast_sigmoid(x[H + j] + g[H + j]);
      const float n = fast_tanh(x[2 * H + j] + r * g[2 * H + j]);
      out[j] = n + z * (hp[j] - n);
      if constexpr (kSave) {
        a[j] = r;
        a[H + j] = z;
        a[2 * H + j] = n;
      }
    }
  }
}

void gru_cell_backward(const float* dh, const float* act, const float* gh, const float* h_prev,
                       const float* keep, Index N, Index H, const GradOut& dgx, const GradOut& dgh,
                       const GradOut& dhp) {
#pragma omp parallel for schedule(static) if (N * H > kCellParallelGrain)
  for (Index row = 0; row < N; ++row) {
    const Index o = row * H, og = row * 3 * H;
    const GradRow gx(dgx, og), gh_row(dgh, og), hp(dhp, o);
    if (keep && keep[row] == 0.f) {
#pragma omp simd
      for (Index j = 0; j < H; ++j) hp.put(j, dh[o + j]);
#pragma omp simd
      for (Index j = 0; j < 3 * H; ++j) {
        gx.put(j, 0.f);
        gh_row.put(j, 0.f);
      }
      continue;
    }
    const float* a = act + og;
    const float* g = gh + og;
#pragma omp simd
    for (Index j = 0; j < H; ++j) {
      const float r = a[j], z = a[H + j], n = a[2 * H + j];
      const float d = dh[o + j];
      const float da_n = d * (1.f - z) * (1.f - n * n);
      const float da_r = da_n * g[2 * H + j] * r * (1.f - r);
      const float da_z = d * (h_prev[o + j] - n) * z * (1.f - z);
      hp.put(j, d * z);
      gx.put(j, da_r);
      gx.put(H + j, da_z);
      gx.put(2 * H + j, da_n);
      gh_row.put(j, da_r);
      gh_row.put(H + j, da_z);
      gh_row.put(2 * H + j, da_n * r);
    }
  }
}

// ----------------------------------------------------------------------------- LSTM

// out [2, N, H] = (h, c) from gates [N, 4H], h_prev, c_prev; act [N, 5H] = (i|f|g|o|tanh c).
template <bool kSave>
void lstm_cell_forward(const float* gx, const float* gh, const float* h_prev, const float* c_prev,
                       const float* keep, Index N, Index H, float* out, float* act) {
  float* h = out;
  float* c = out + N * H;
#pragma omp parallel for schedule(static) if (N * H > kCellParallelGrain)
  for (Index row = 0; row < N; ++row) {
    const Index o = row * H;
    if (keep && keep[row] == 0.f) {
      std::copy_n(h_prev + o, H, h + o);
      std::copy_n(c_prev + o, H, c + o);
      continue;
    }
    const float* x = gx + row * 4 * H;
    const float* g = gh + row * 4 * H;
    float* a = kSave ? act + row * 5 * H : nullptr;
#pragma omp simd
    for (Index j = 0; j < H; ++j) {
      const float gi = fast_sigmoid(x[j] + g[j]);
      const float gf = fast_sigmoid(x[H + j] + g[H + j]);
      const float gg = fast_tanh(x[2 * H + j] + g[2 * H + j]);
      const float go = fast_sigmoid(x[3 * H + j] + g[3 * H + j]);
      const float cj = gf * c_prev[o + j] + gi * gg;
      const float tc = fast_tanh(cj);
      c[o + j] = cj;
      h[o + j] = go * tc;
      if constexpr (kSave) {
        a[j] = gi;
        a[H + j] = gf;
        a[2 * H + j] = gg;
        a[3 * H + j] = go;
        a[4 * H + j] = tc;
      }
    }
  }
}

// dout [2, N, H] = (dh, dc). dhp.data is null when h_prev gets no gradient from this op (no keep
// mask: h_prev is then not read at all).
void lstm_cell_backward(const float* dout, const float* act, const float* c_prev, const float* keep,
                        Index N, Index H, const GradOut& dgx, const GradOut& dgh,
                        const GradOut& dhp, const GradOut& dcp) {
  const float* dh = dout;
  const float* dc = dout + N * H;
#pragma omp parallel for schedule(static) if (N * H > kCellParallelGrain)
  for (Index row = 0; row < N; ++row) {
    const Index o = row * H, og = row * 4 * H;
    const GradRow gx(dgx, og), gh(dgh, og), cp(dcp, o);
    if (keep && keep[row] == 0.f) {
      if (dhp.data) {
        const GradRow hp(dhp, o);
#pragma omp simd
        for (Index j = 0; j < H; ++j) hp.put(j, dh[o + j]);
      }
#pragma omp simd
      for (Index j = 0; j < H; ++j) cp.put(j, dc[o + j]);
#pragma omp simd
      for (Index j = 0; j < 4 * H; ++j) {
        gx.put(j, 0.f);
        gh.put(j, 0.f);
      }
      continue;
    }
    if (dhp.data && !dhp.accumulate) std::fill_n(dhp.data + o, H, 0.f);
    const float* a = act + row * 5 * H;
#pragma omp simd
    for (Index j = 0; j < H; ++j) {
      const float gi = a[j], gf = a[H + j], gg = a[2 * H + j], go = a[3 * H + j];
      const float tc = a[4 * H + j];
      const float d = dh[o + j];
      const float dct = dc[o + j] + d * go * (1.f - tc * tc);
      const float da_i = dct * gg * gi * (1.f - gi);
      const float da_f = dct * c_prev[o + j] * gf * (1.f - gf);
      const float da_g = dct * gi * (1.f - gg * gg);
      const float da_o = d * tc * go * (1.f - go);
      cp.put(j, dct * gf);
      gx.put(j, da_i);
      gx.put(H + j, da_f);
      gx.put(2 * H + j, da_g);
      gx.put(3 * H + j, da_o);
      gh.put(j, da_i);
      gh.put(H + j, da_f);
      gh.put(2 * H + j, da_g);
      gh.put(3 * H + j, da_o);
    }
  }
}

}  // namespace

// ----------------------------------------------------------------------------- public

Tensor gru_cell(const Tensor& gates_x, const Tensor& gates_h, const Tensor& h_prev,
                const Tensor& keep) {
  const auto [N, H] = check_cell("gru_cell", 3, gates_x, gates_h, h_prev, nullptr, keep);
  const float* keep_data = keep.defined() ? keep.data() : nullptr;
  Tensor h = Tensor::empty(Shape{N, H});
  if (!any_requires_grad({&gates_x, &gates_h, &h_prev})) {
    gru_cell_forward<false>(gates_x.data(), gates_h.data(), h_prev.data(), keep_data, N, H,
                            h.data(), nullptr);
    return h;
  }
  Tensor act = Tensor::empty(Shape{N, 3 * H});
  gru_cell_forward<true>(gates_x.data(), gates_h.data(), h_prev.data(), keep_data, N, H, h.data(),
                         act.data());
  record("gru_cell", h, {&gates_x, &gates_h, &h_prev},
         [act, gh = gates_h.detach(), hp = h_prev.detach(),
          keep = keep.defined() ? keep.detach() : Tensor(), N, H](Node& node) {
           const Shape gates_shape{N, 3 * H};
           const GradOut dgx = grad_out(node, 0, gates_shape);
           const GradOut dgh = grad_out(node, 1, gates_shape);
           const GradOut dhp = grad_out(node, 2, Shape{N, H});
           gru_cell_backward(node.grad().data(), act.data(), gh.data(), hp.data(),
                             keep.defined() ? keep.data() : nullptr, N, H, dgx, dgh, dhp);
         });
  return h;
}

LstmState lstm_cell(const Tensor& gates_x, const Tensor& gates_h, const Tensor& h_prev,
                    const Tensor& c_prev, const Tensor& keep) {
  const auto [N, H] = check_cell("lstm_cell", 4, gates_x, gates_h, h_prev, &c_prev, keep);
  const float* keep_data = keep.defined() ? keep.data() : nullptr;
  Tensor out = Tensor::empty(Shape{2, N, H});
  if (!any_requires_grad({&gates_x, &gates_h, &h_prev, &c_prev})) {
    lstm_cell_forward<false>(gates_x.data(), gates_h.data(), h_prev.data(), c_prev.data(),
                             keep_data, N, H, out.data(), nullptr);
  } else {
    Tensor act = Tensor::empty(Shape{N, 5 * H});
    lstm_cell_forward<true>(gates_x.data(), gates_h.data(), h_prev.data(), c_prev.data(), keep_data,
                            N, H, out.data(), act.data());
    record("lstm_cell", out, {&gates_x, &gates_h, &h_prev, &c_prev},
           [act, cp = c_prev.detach(), keep = keep.defined() ? keep.detach() : Tensor(), N,
            H](Node& node) {
             const Shape gates_shape{N, 4 * H}, state_shape{N, H};
             const GradOut dgx = grad_out(node, 0, gates_shape);
             const GradOut dgh = grad_out(node, 1, gates_shape);
             // Without a keep mask h_prev does not enter the cell: no gradient to add.
             const GradOut dhp = keep.defined() && node.needs_grad(2)
                                     ? grad_out(node, 2, state_shape)
                                     : GradOut{nullptr, false, Tensor()};
             const GradOut dcp = grad_out(node, 3, state_shape);
             lstm_cell_backward(node.grad().data(), act.data(), cp.data(),
                                keep.defined() ? keep.data() : nullptr, N, H, dgx, dgh, dhp, dcp);
           });
  }
  // h and c: the contiguous halves of the packed output, as views recorded by slice/squeeze.
  return {squeeze(slice(out, 0, 0, 1), 0), squeeze(slice(out, 0, 1, 2), 0)};
}

}  // namespace heed
