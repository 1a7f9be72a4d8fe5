#include "core/runtime.h"

#include "core/distributed.h"

#include <dlfcn.h>

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

torch::Device apply_runtime(const std::string& device, int threads) {
  configure_threads(threads);
  const auto selected = select_device(device);
  init_distributed(selected);  // joins the job when the environment describes one (WORLD_SIZE > 1)
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
