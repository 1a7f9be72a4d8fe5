// Where and how tensors are computed: device selection and the CPU thread setup.
#pragma once

#include <torch/torch.h>

#include <string>

namespace rlhf {

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when available). Asking for CUDA in a CPU-only build is an
// error that says so.
torch::Device select_device(const std::string& name);

// Thread setup, chosen by measurement (bench/core_speed): Debian's LibTorch hands matmuls to
// OpenBLAS, which has its own thread pool; LibTorch's OpenMP pool runs the other ops. With OpenBLAS
// the default is `threads` (0: all cores) for OpenBLAS and 1 for LibTorch. See README "Threads".
struct ThreadSetup {
  int torch_threads;
  int blas_threads;
};
ThreadSetup configure_threads(int threads);
ThreadSetup configure_threads(int torch_threads, int blas_threads);

// glibc's allocator, told to keep freed memory: by default every block of 128 KiB or more is its
// own mmap, returned to the kernel when freed, so each training step faults in (and the kernel
// zeroes) its activations afresh: ~90,000 page faults and ~40% of a 10M-parameter step on this
// machine (bench/README.md "Where the time goes"). Blocks up to 32 MiB now come from the heap, which
// is kept at its peak size, like PyTorch's CUDA caching allocator keeps device memory; larger
// blocks are kept by LibTorch's CPU allocator (core/large_block_cache.h). The malloc part is a
// no-op elsewhere than glibc.
void configure_allocator();

// A stage's runtime in one call: the allocator, the thread setup, the device, and the data-parallel job when the
// environment describes one (core/distributed.h).
torch::Device apply_runtime(const std::string& device, int threads);

// Number of threads OpenBLAS currently uses (-1 when the BLAS is not OpenBLAS).
int blas_num_threads();

}  // namespace rlhf
