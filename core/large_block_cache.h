// A cache for CPU blocks too large for glibc's heap. glibc serves every allocation of 32 MiB or more
// (its largest allowed mmap threshold) with a fresh mmap and unmaps it on free, so the kernel faults
// in and zeroes each of its pages again on every training step: the logits of a 10M-model step and
// their gradients (4 x 33.5 MB) cost ~16,000 page faults, ~10% of the step (bench/README.md).
// Installed as LibTorch's CPU allocator, this keeps freed large blocks and hands them out again for
// requests of up to the same size (and no less than half), as PyTorch's CUDA caching allocator does
// on the GPU. Smaller blocks go to LibTorch's default allocator (glibc's heap, kept by
// configure_allocator in core/runtime.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rlhf {

constexpr size_t kLargeBlockBytes = size_t{32} << 20;

// Installs the cache as LibTorch's CPU allocator (once; later calls only change the cap). Freed
// blocks are kept while their total stays under `max_cached_bytes`; the largest go first.
void install_large_block_cache(size_t max_cached_bytes);

struct LargeBlockCacheStats {
  int64_t hits = 0;          // large requests served from the cache
  int64_t misses = 0;        // large requests that allocated
  int64_t cached_bytes = 0;  // freed blocks kept now
  bool installed = false;
};
LargeBlockCacheStats large_block_cache_stats();

}  // namespace rlhf
