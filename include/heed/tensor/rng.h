// Rng: a seeded, counter-based random generator (Philox4x32-10, Salmon et al., SC 2011).
//
// Why counter-based: the value for draw i is a pure function of (seed, counter + i), so a
// parallel kernel (a dropout mask over 4M elements) can reserve a range of counters and let each
// OpenMP thread compute its part independently; the result does not depend on the thread count,
// and the whole generator state is two integers, trivially checkpointed. This is also why heed's
// dropout costs a fraction of PyTorch's `bernoulli_` (14 % of a PyTorch training step).
#pragma once

#include <array>
#include <cstdint>

namespace heed {

class Rng {
 public:
  struct State {
    std::uint64_t seed = 0;
    std::uint64_t counter = 0;
  };

  explicit Rng(std::uint64_t seed = 0) : state_{seed, 0} {}

  // One Philox block: four independent 32-bit words for (seed, counter).
  static std::array<std::uint32_t, 4> block(std::uint64_t seed, std::uint64_t counter);

  // Reserves `n` consecutive counters and returns the first; a kernel then calls block(seed, c)
  // for c in [first, first + n) in any order or thread.
  std::uint64_t reserve(std::uint64_t n) {
    const std::uint64_t first = state_.counter;
    state_.counter += n;
    return first;
  }

  std::uint32_t next_u32();
  float uniform();                      // [0, 1)
  float uniform(float lo, float hi);    // [lo, hi)
  float normal(float mean = 0.f, float stddev = 1.f);
  std::int64_t randint(std::int64_t lo, std::int64_t hi);  // [lo, hi)

  // Bulk fills (parallel, thread-count independent).
  void fill_uniform(float* out, std::int64_t n, float lo, float hi);
  void fill_normal(float* out, std::int64_t n, float mean, float stddev);

  // Derives an independent generator (for a data shuffler, a dropout stream...).
  Rng fork();

  std::uint64_t seed() const { return state_.seed; }
  const State& state() const { return state_; }
  void set_state(const State& state) { state_ = state; }

  // Maps a 32-bit word to a float in [0, 1) with 24 random bits.
  static float to_unit(std::uint32_t u) { return static_cast<float>(u >> 8) * 0x1.0p-24f; }

 private:
  State state_;
};

}  // namespace heed
