// Threading: heed uses one OpenMP team for everything (its own kernels and oneDNN, which Debian
// builds with the OpenMP runtime), never nested. Small loops stay serial: forking a team costs
// ~1-2 µs, more than the work below a few tens of thousands of elements.
#pragma once

#include <cstdint>

namespace heed {

// Element count above which an elementwise loop is worth splitting across threads.
inline constexpr std::int64_t kParallelGrain = 1 << 15;

// Sets the number of threads for OpenMP and oneDNN (n <= 0: all cores).
void set_num_threads(int n);
int num_threads();

}  // namespace heed
