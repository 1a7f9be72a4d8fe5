// Peak GPU memory held by tensors, for bench_speed and bench_ppo. The caching allocator's counters
// are only reachable from a CUDA build of LibTorch (bench/CMakeLists.txt defines RLHF_WITH_CUDA
// there); elsewhere the functions do nothing and the peak reads -1.
#pragma once

#include <torch/torch.h>

#ifdef RLHF_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <cstdint>

namespace bench {

// Starts a new peak on `device` (a CUDA device; others are ignored).
inline void reset_peak_gpu_bytes(const torch::Device& device) {
#ifdef RLHF_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
#endif
}

// Most bytes held by live tensors on `device` since the last reset (not the allocator's cached
// blocks), as torch.cuda.max_memory_allocated() reports it; -1 where it cannot be read.
inline int64_t peak_gpu_bytes(const torch::Device& device) {
#ifdef RLHF_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0);
    return stats.allocated_bytes[0].peak;  // [0]: StatType::AGGREGATE, all pools together
  }
#endif
  return -1;
}

// Waits for the device's queued work, so that a clock read afterwards includes it.
inline void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

}  // namespace bench
