// Embedding lookup: a table of V vectors of size D, indexed by token id.
//
//   y[n, :] = W[ids[n], :]          W [V, D], ids [N...] -> y [N..., D]
//   dW[v, :] = Σ_{n : ids[n] = v} dy[n, :]   for v != padding_idx;   dW[padding_idx] = 0
//
// Saved: the ids. The backward is a scatter-add with collisions (a frequent token appears many
// times in a batch). Instead of atomics, positions are bucketed by id with a stable counting sort,
// and each row of dW is then owned by one thread that adds its positions in increasing order:
// deterministic, and the same bits for any thread count. Every element of dW is written exactly
// once (rows no id hits are zeroed, or left alone when adding to an existing gradient), so the
// gradient buffer comes from grad_slot with no memset. A tied weight (the same matrix used by
// linear() as the output projection) receives both gradients through that accumulate flag.
#include "heed/ops/embedding.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed {
namespace {

// Coordinates of flat position `pos` in `shape`, as "[i, j, ...]".
std::string position_string(const Shape& shape, Index pos) {
  std::vector<Index> coord(shape.ndim());
  for (int d = shape.ndim() - 1; d >= 0; --d) {
    coord[d] = pos % shape[d];
    pos /= shape[d];
  }
  return Shape(coord).to_string();
}

void embedding_forward(const float* W, const std::int32_t* ids, Index N, Index D, float* y) {
#pragma omp parallel for schedule(static) if (N * D > kParallelGrain)
  for (Index n = 0; n < N; ++n) std::memcpy(y + n * D, W + ids[n] * D, D * sizeof(float));
}

void embedding_backward(const float* dy, const std::int32_t* ids, Index N, Index V, Index D,
                        int padding_idx, float* dW, bool accumulate) {
  // Counting sort of positions by id: positions of id v are order[begin[v] .. begin[v + 1]).
  std::vector<Index> begin(V + 1, 0);
  for (Index n = 0; n < N; ++n) ++begin[ids[n] + 1];
  for (Index v = 0; v < V; ++v) begin[v + 1] += begin[v];
  std::vector<Index> order(N);
  std::vector<Index> next(begin.begin(), begin.end() - 1);
  for (Index n = 0; n < N; ++n) order[next[ids[n]]++] = n;

  // Rows differ in cost (token frequencies are Zipfian), so rows are dealt out dynamically; a
  // row is still summed by a single thread in a fixed order, so the result does not depend on
  // the schedule.
#pragma omp parallel for schedule(dynamic, 64) if ((N + V) * D > kParallelGrain)
  for (Index v = 0; v < V; ++v) {
    float* row = dW + v * D;
    const Index b = begin[v], e = begin[v + 1];
    if (b == e || v == padding_idx) {
      if (!accumulate) std::fill_n(row, D, 0.f);
      continue;
    }
    const float* g = dy + order[b] * D;
    if (accumulate) {
#pragma omp simd
      for (Index d = 0; d < D; ++d) row[d] += g[d];
    } else {
      std::memcpy(row, g, D * sizeof(float));
    }
    for (Index k = b + 1; k < e; ++k) {
      g = dy + order[k] * D;
#pragma omp simd
      for (Index d = 0; d < D; ++d) row[d] += g[d];
    }
  }
}

}  // namespace

Tensor embedding(const Tensor& weight, const IntTensor& ids, int padding_idx) {
  CHECK(weight.defined() && weight.ndim() == 2, "embedding: weight must be [V, D] (got ",
        weight.defined() ? weight.shape().to_string() : "undefined", ")");
  CHECK(ids.defined(), "embedding: undefined ids");
  const Index V = weight.size(0), D = weight.size(1), N = ids.numel();
  CHECK(padding_idx < V, "embedding: padding_idx ", padding_idx, " is out of range [0, ", V,
        ") for weight ", weight.shape());
  const std::int32_t* id = ids.data();
  for (Index n = 0; n < N; ++n)
    CHECK(id[n] >= 0 && id[n] < V, "embedding: id ", id[n], " at position ",
          position_string(ids.shape(), n), " of ids ", ids.shape(), " is out of range [0, ", V,
          ")");
  Tensor out = Tensor::empty(ids.shape().appended(D));
  embedding_forward(weight.data(), id, N, D, out.data());
  record("embedding", out, {&weight}, [ids, V, D, padding_idx](Node& node) {
    auto slot = node.grad_slot(0);
    embedding_backward(node.grad().data(), ids.data(), ids.numel(), V, D, padding_idx,
                       slot.tensor.data(), slot.accumulate);
  });
  return out;
}

}  // namespace heed
