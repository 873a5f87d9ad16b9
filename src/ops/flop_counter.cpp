#include "heed/ops/flop_counter.h"

#include <atomic>

namespace heed {
namespace {
// Relaxed atomic double: increments come from the thread that dispatches ops (one at a time).
std::atomic<double> total_flops{0.0};
}  // namespace

void add_matmul_flops(double flops) {
  total_flops.store(total_flops.load(std::memory_order_relaxed) + flops, std::memory_order_relaxed);
}
double matmul_flops() { return total_flops.load(std::memory_order_relaxed); }
void reset_matmul_flops() { total_flops.store(0.0, std::memory_order_relaxed); }

}  // namespace heed
