#include "heed/nn/dropout.h"

#include <algorithm>

#include "heed/ops/dropout.h"
#include "heed/tensor/special_ids.h"
#include "heed/util/check.h"

namespace heed {

Dropout::Dropout(float p, std::shared_ptr<Rng> rng) : p_(p), rng_(std::move(rng)) {
  CHECK(p >= 0.f && p < 1.f, "Dropout: p must be in [0, 1) (got ", p, ")");
  CHECK(p == 0.f || rng_ != nullptr, "Dropout: p > 0 needs a random generator");
}

Tensor Dropout::forward(const Tensor& x) const {
  if (!is_training() || p_ == 0.f) return x;
  return dropout(x, p_, true, *rng_);
}

WordDropout::WordDropout(float p, std::shared_ptr<Rng> rng) : p_(p), rng_(std::move(rng)) {
  CHECK(p >= 0.f && p < 1.f, "WordDropout: p must be in [0, 1) (got ", p, ")");
  CHECK(p == 0.f || rng_ != nullptr, "WordDropout: p > 0 needs a random generator");
}

IntTensor drop_ids(const IntTensor& ids, float p, Rng& rng, std::int32_t replacement) {
  const Index n = ids.numel();
  // Entry i draws word (i mod 4) of Philox block first + i / 4: a pure function of the counters.
  const std::uint64_t first = rng.reserve(static_cast<std::uint64_t>((n + 3) / 4));
  IntTensor out(ids.shape());
  const std::int32_t* in = ids.data();
  std::int32_t* o = out.data();
  for (Index i = 0; i < n; i += 4) {
    const auto words = Rng::block(rng.seed(), first + static_cast<std::uint64_t>(i / 4));
    for (Index k = i; k < std::min(n, i + 4); ++k) {
      const bool drop = in[k] != kPadId && Rng::to_unit(words[k - i]) < p;
      o[k] = drop ? replacement : in[k];
    }
  }
  return out;
}

IntTensor WordDropout::forward(const IntTensor& ids) const {
  if (!is_training() || p_ == 0.f) return ids;
  return drop_ids(ids, p_, *rng_, kUnkId);
}

}  // namespace heed
