// Storage: a reference-counted float buffer, and the buffer pool it comes from.
//
// Training repeats the same shapes step after step, so a freed buffer is almost always needed
// again moments later. Instead of returning memory to malloc (which, for large blocks, means
// munmap now and fresh zeroed pages on the next step: PyTorch takes ~200,000 page faults per step
// of the small Transformer this way), released buffers go to a size-class free list and are
// handed out again. After the first step or two a training step allocates no new memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace heed {

struct PoolStats {
  std::uint64_t allocations = 0;   // requests served (from the pool or fresh)
  std::uint64_t fresh = 0;         // requests that needed new memory from the system
  std::uint64_t bytes_fresh = 0;   // total bytes obtained from the system
  std::uint64_t bytes_in_use = 0;  // bytes currently handed out
  std::uint64_t bytes_cached = 0;  // bytes held in free lists
};

class BufferPool {
 public:
  // The process-wide pool used by every Tensor.
  static BufferPool& instance();

  // A 64-byte-aligned block of at least `bytes` bytes (contents undefined).
  void* allocate(std::size_t bytes, std::size_t* capacity);
  void release(void* ptr, std::size_t capacity);

  PoolStats stats() const;
  // Returns every cached block to the system (e.g. between benchmark models).
  void trim();

  ~BufferPool();

 private:
  BufferPool();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A float buffer owned by the pool; freed back to it when the last Tensor sharing it goes away.
class Storage {
 public:
  explicit Storage(std::size_t numel);
  // Wraps memory owned elsewhere (not freed by Storage); used for views into mapped files.
  Storage(float* external, std::size_t numel);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  float* data() const { return data_; }
  std::size_t numel() const { return numel_; }

 private:
  float* data_ = nullptr;
  std::size_t numel_ = 0;
  std::size_t capacity_bytes_ = 0;  // 0 for external memory
};

}  // namespace heed
