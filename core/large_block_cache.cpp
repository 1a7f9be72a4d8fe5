#include "core/large_block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <map>
#include <mutex>
#include <unordered_map>

namespace rlhf {

namespace {

class LargeBlockCache final : public at::Allocator {
 public:
  explicit LargeBlockCache(at::Allocator* fallback) : fallback_(fallback) {}

  at::DataPtr allocate(size_t n) override {
    if (n < kLargeBlockBytes) return fallback_->allocate(n);
    void* block = take(n);
    return {block, block, &release, at::Device(at::DeviceType::CPU)};  // the deleter gets the context
  }

  void copy_data(void* dest, const void* src, size_t count) const override { default_copy_data(dest, src, count); }

  void set_cap(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    cap_ = bytes;
    trim_to(cap_);
  }

  LargeBlockCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {hits_, misses_, static_cast<int64_t>(cached_bytes_), true};
  }

  static LargeBlockCache* instance;  // never destroyed: tensors may be freed during static destruction

 private:
  void* take(size_t n) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.lower_bound(n);  // the smallest kept block that fits, if it wastes at most half
      if (it != free_.end() && it->first / 2 <= n) {
        void* block = it->second;
        cached_bytes_ -= it->first;
        live_[block] = it->first;
        free_.erase(it);
        ++hits_;
        return block;
      }
      ++misses_;
    }
    void* block = c10::alloc_cpu(n);  // 64-byte aligned; throws LibTorch's out-of-memory error
    std::lock_guard<std::mutex> lock(mutex_);
    live_[block] = n;
    return block;
  }

  static void release(void* block) { instance->give_back(block); }

  void give_back(void* block) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(block);
    const size_t size = it->second;
    live_.erase(it);
    if (size > cap_) return c10::free_cpu(block);
    trim_to(cap_ - size);
    free_.emplace(size, block);
    cached_bytes_ += size;
  }

  void trim_to(size_t bytes) {  // frees the largest kept blocks until at most `bytes` remain
    while (cached_bytes_ > bytes && !free_.empty()) {
      auto largest = std::prev(free_.end());
      cached_bytes_ -= largest->first;
      c10::free_cpu(largest->second);
      free_.erase(largest);
    }
  }

  at::Allocator* fallback_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_;          // size -> kept block
  std::unordered_map<void*, size_t> live_;     // block -> size, for blocks in use
  size_t cached_bytes_ = 0;
  int64_t hits_ = 0, misses_ = 0;
  size_t cap_ = 0;
};

LargeBlockCache* LargeBlockCache::instance = nullptr;
std::once_flag installed;

}  // namespace

void install_large_block_cache(size_t max_cached_bytes) {
  std::call_once(installed, [] {
    LargeBlockCache::instance = new LargeBlockCache(c10::GetDefaultCPUAllocator());
    c10::SetCPUAllocator(LargeBlockCache::instance, /*priority=*/1);
  });
  LargeBlockCache::instance->set_cap(max_cached_bytes);
}

LargeBlockCacheStats large_block_cache_stats() {
  return LargeBlockCache::instance ? LargeBlockCache::instance->stats() : LargeBlockCacheStats{};
}


}  // namespace rlhf
