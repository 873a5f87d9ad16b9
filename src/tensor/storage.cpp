#include "heed/tensor/storage.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "heed/util/check.h"

namespace heed {
namespace {

constexpr std::size_t kAlignment = 64;

// Size classes: 4 per power of two (2^k, 1.25·2^k, 1.5·2^k, 1.75·2^k), so a block wastes at most
// 25 % while nearby sizes (batches with slightly different lengths) still share a free list.
std::size_t size_class(std::size_t bytes) {
  if (bytes <= 256) return 256;
  std::size_t p = 1;
  while ((p << 1) <= bytes) p <<= 1;  // p = largest power of two <= bytes
  if (p == bytes) return p;
  const std::size_t quarter = p >> 2;
  std::size_t c = p + quarter;
  while (c < bytes) c += quarter;
  return c;
}

}  // namespace

struct BufferPool::Impl {
  mutable std::mutex mutex;
  std::unordered_map<std::size_t, std::vector<void*>> free_lists;
  PoolStats stats;
};

BufferPool& BufferPool::instance() {
  // Leaked on purpose: tensors in static objects may be released after main returns.
  static BufferPool* pool = new BufferPool();
  return *pool;
}

BufferPool::BufferPool() : impl_(std::make_unique<Impl>()) {}
BufferPool::~BufferPool() { trim(); }

void* BufferPool::allocate(std::size_t bytes, std::size_t* capacity) {
  const std::size_t cls = size_class(bytes);
  *capacity = cls;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    ++impl_->stats.allocations;
    impl_->stats.bytes_in_use += cls;
    auto it = impl_->free_lists.find(cls);
    if (it != impl_->free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      impl_->stats.bytes_cached -= cls;
      return p;
    }
    ++impl_->stats.fresh;
    impl_->stats.bytes_fresh += cls;
  }
  void* p = std::aligned_alloc(kAlignment, cls);
  if (!p) {
    // Out of memory: give back what the pool caches and try once more.
    trim();
    p = std::aligned_alloc(kAlignment, cls);
  }
  if (!p) throw std::bad_alloc();
  return p;
}

void BufferPool::release(void* ptr, std::size_t capacity) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->free_lists[capacity].push_back(ptr);
  impl_->stats.bytes_in_use -= capacity;
  impl_->stats.bytes_cached += capacity;
}

PoolStats BufferPool::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stats;
}

void BufferPool::trim() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (auto& [cls, list] : impl_->free_lists) {
    for (void* p : list) std::free(p);
    impl_->stats.bytes_cached -= cls * list.size();
    list.clear();
  }
}

Storage::Storage(std::size_t numel) : numel_(numel) {
  data_ = static_cast<float*>(
      BufferPool::instance().allocate(std::max<std::size_t>(numel, 1) * sizeof(float),
                                      &capacity_bytes_));
}

Storage::Storage(float* external, std::size_t numel) : data_(external), numel_(numel) {}

Storage::~Storage() {
  if (capacity_bytes_ > 0) BufferPool::instance().release(data_, capacity_bytes_);
}

}  // namespace heed
