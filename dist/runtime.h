// Where and how tensors are computed: device selection and the CPU thread setup.
#pragma once

#include <torch/torch.h>

#include <string>

namespace rlhf {

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when available). Asking for CUDA in a CPU-only build is an
// error that says so.
torch::Device select_device(const std::string& name);

// Whether LibTorch's CUDA half is linked in (true in CUDA builds even on a machine without a GPU).
bool cuda_compiled_in();

// One line for `rlhf --version`: the LibTorch version, whether CUDA is compiled in and how many GPUs
// are visible, and the c10d backends.
std::string build_info();

// LibTorch's intra-op threads: its OpenMP pool runs the matmuls (MKL, oneDNN) and the other ops
// alike. `threads` 0 means this process's share of the cores (all of them, divided among the
// processes of a data-parallel job on this machine). Returns the count set. See README "Threads".
int configure_threads(int threads);

// glibc's allocator, told to keep freed memory: by default every block of 128 KiB or more is its
// own mmap, returned to the kernel when freed, so each training step faults in (and the kernel
// zeroes) its activations afresh. Blocks up to 32 MiB (glibc's largest threshold) now come from the
// heap, which is kept at its peak size, like PyTorch's CUDA caching allocator keeps device memory
// (bench/README.md, "What the measurements changed"). A no-op elsewhere than glibc.
void configure_allocator();

// A stage's runtime in one call: the allocator, the thread setup, the device, and the data-parallel job when the
// environment describes one (dist/distributed.h).
torch::Device apply_runtime(const std::string& device, int threads);

}  // namespace rlhf
