#include "core/runtime.h"

#include "core/distributed.h"
#include "core/large_block_cache.h"

#include <dlfcn.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <climits>

#include <stdexcept>
#include <thread>

namespace rlhf {

torch::Device select_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    throw std::runtime_error("--device " + name + ": expected cpu, cuda, cuda:N or auto");
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw std::runtime_error("--device " + name + ": CUDA is not available (this build or machine has no GPU); use --device cpu");
  return device;
}

namespace {

// OpenBLAS is found at run time: Debian's libblas.so.3 may be OpenBLAS or the reference BLAS.
using SetThreads = void (*)(int);
using GetThreads = int (*)();

SetThreads openblas_set() { return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")); }
GetThreads openblas_get() { return reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")); }

}  // namespace

void configure_allocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value; also stops its dynamic threshold
  mallopt(M_TRIM_THRESHOLD, INT_MAX);   // never shrink the heap top between steps
  mallopt(M_TOP_PAD, 256 << 20);        // grow it in large steps (untouched pages cost nothing)
#endif
  // Blocks above glibc's largest threshold: kept by LibTorch's CPU allocator instead, up to a
  // quarter of the machine's memory.
  const size_t ram = static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGE_SIZE));
  install_large_block_cache(ram / 4);
}

torch::Device apply_runtime(const std::string& device, int threads) {
  configure_allocator();
  configure_threads(threads);
  auto selected = select_device(device);
  const auto env = distributed_env_from_process();
  if (env.in_job && selected.is_cuda() && !selected.has_index()) {
    // One GPU per process: the processes on a machine take GPUs 0..LOCAL_WORLD_SIZE-1.
    const auto gpus = static_cast<int>(torch::cuda::device_count());
    if (env.local_rank >= gpus)
      throw std::runtime_error("--device " + device + ": LOCAL_RANK " + std::to_string(env.local_rank) + " needs GPU " +
                               std::to_string(env.local_rank) + " but this machine has " + std::to_string(gpus) +
                               " (start at most one process per GPU)");
    selected = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
  }
  init_distributed(selected);  // joins the job when the environment describes one (WORLD_SIZE set)
  return selected;
}

int blas_num_threads() {
  auto get = openblas_get();
  return get ? get() : -1;
}

ThreadSetup configure_threads(int torch_threads, int blas_threads) {
  torch::set_num_threads(std::max(1, torch_threads));
  if (auto set = openblas_set()) set(std::max(1, blas_threads));
  return {torch_threads, blas_threads};
}

ThreadSetup configure_threads(int threads) {
  // Processes started together on one machine (rlhf launch, torchrun) share its cores.
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  const int n = threads > 0 ? threads : std::max(1, cores / distributed_env_from_process().local_world_size);
  // Measured on 2 cores (bench_core_speed, README "Threads"): OpenBLAS with all threads and
  // LibTorch's own pool at one thread trains 1.5x and samples (B=16) 4.8x faster than both pools at
  // two threads, which oversubscribe the cores. Without OpenBLAS (e.g. MKL builds) LibTorch's pool
  // drives the matmuls itself and gets all threads.
  if (openblas_set()) return configure_threads(1, n);
  return configure_threads(n, n);
}

}  // namespace rlhf
