// ThreadCount: sets the OpenMP thread count for a scope and restores the previous one.
#pragma once

#include "heed/util/parallel.h"

namespace heed::testing {

class ThreadCount {
 public:
  explicit ThreadCount(int n) : previous_(num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(previous_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int previous_;
};

}  // namespace heed::testing
