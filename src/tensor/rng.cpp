#include "heed/tensor/rng.h"

#include <cmath>

#include "heed/util/check.h"

namespace heed {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

inline void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

// Box–Muller: two uniforms -> two standard normals. u1 is moved to (0, 1] so log(u1) is finite.
inline void box_muller(std::uint32_t a, std::uint32_t b, float& z0, float& z1) {
  const float u1 = 1.0f - Rng::to_unit(a);
  const float u2 = Rng::to_unit(b);
  const float r = std::sqrt(-2.0f * std::log(u1));
  const float theta = 6.28318530717958647692f * u2;
  z0 = r * std::cos(theta);
  z1 = r * std::sin(theta);
}

}  // namespace

std::array<std::uint32_t, 4> Rng::block(std::uint64_t seed, std::uint64_t counter) {
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = 0, c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kMul0, c0, hi0, lo0);
    mulhilo(kMul1, c2, hi1, lo1);
    const std::uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {c0, c1, c2, c3};
}

std::uint32_t Rng::next_u32() { return block(state_.seed, reserve(1))[0]; }

float Rng::uniform() { return to_unit(next_u32()); }

float Rng::uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }

float Rng::normal(float mean, float stddev) {
  const auto w = block(state_.seed, reserve(1));
  float z0, z1;
  box_muller(w[0], w[1], z0, z1);
  return mean + stddev * z0;
}

std::int64_t Rng::randint(std::int64_t lo, std::int64_t hi) {
  CHECK(hi > lo, "randint: empty range [", lo, ", ", hi, ")");
  const auto w = block(state_.seed, reserve(1));
  const std::uint64_t r = (static_cast<std::uint64_t>(w[0]) << 32) | w[1];
  return lo + static_cast<std::int64_t>(r % static_cast<std::uint64_t>(hi - lo));
}

void Rng::fill_uniform(float* out, std::int64_t n, float lo, float hi) {
  const std::int64_t blocks = (n + 3) / 4;
  const std::uint64_t first = reserve(blocks);
  const std::uint64_t seed = state_.seed;
  const float scale = hi - lo;
#pragma omp parallel for schedule(static) if (blocks > 4096)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const auto w = block(seed, first + b);
    for (int j = 0; j < 4 && 4 * b + j < n; ++j) out[4 * b + j] = lo + scale * to_unit(w[j]);
  }
}

void Rng::fill_normal(float* out, std::int64_t n, float mean, float stddev) {
  const std::int64_t blocks = (n + 3) / 4;
  const std::uint64_t first = reserve(blocks);
  const std::uint64_t seed = state_.seed;
#pragma omp parallel for schedule(static) if (blocks > 4096)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const auto w = block(seed, first + b);
    float z[4];
    box_muller(w[0], w[1], z[0], z[1]);
    box_muller(w[2], w[3], z[2], z[3]);
    for (int j = 0; j < 4 && 4 * b + j < n; ++j) out[4 * b + j] = mean + stddev * z[j];
  }
}

Rng Rng::fork() {
  const auto w = block(state_.seed, reserve(1));
  return Rng((static_cast<std::uint64_t>(w[0]) << 32) | w[1]);
}

}  // namespace heed
