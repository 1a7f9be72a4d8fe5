#include "dist/runtime.h"

#include "dist/distributed.h"

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <climits>

#include <stdexcept>
#include <thread>

namespace rlhf {

bool cuda_compiled_in() { return at::globalContext().hasCUDART(); }

std::string build_info() {
  std::string cuda = "CUDA not compiled in";
  if (cuda_compiled_in()) {
    const long v = at::detail::getCUDAHooks().versionCUDART();  // e.g. 13000
    cuda = "CUDA " + std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10) + " compiled in, " +
           std::to_string(torch::cuda::device_count()) + " GPU(s) visible";
  }
  std::string backends;
  for (const auto& name : compiled_backends()) backends += (backends.empty() ? "" : ", ") + name;
  if (!nccl_version().empty()) backends += " " + nccl_version();
  return "LibTorch " TORCH_VERSION "; " + cuda + "; c10d backends: " + (backends.empty() ? "none" : backends);
}

torch::Device select_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    throw std::runtime_error("--device " + name + ": expected cpu, cuda, cuda:N or auto");
  }
  if (device.is_cuda() && !cuda_compiled_in())
    throw std::runtime_error("--device " + name + ": this build has no CUDA (built without a CUDA toolkit: install one and rerun "
                             "scripts/setup.sh); use --device cpu");
  if (device.is_cuda() && !torch::cuda::is_available())
    throw std::runtime_error("--device " + name + ": no CUDA GPU is visible on this machine (driver, CUDA_VISIBLE_DEVICES); "
                             "use --device cpu");
  if (device.is_cuda() && device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
    throw std::runtime_error("--device " + name + ": this machine has " + std::to_string(torch::cuda::device_count()) +
                             " CUDA GPU(s), numbered from 0");
  return device;
}

void configure_allocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value; also stops its dynamic threshold
  mallopt(M_TRIM_THRESHOLD, INT_MAX);   // never shrink the heap top between steps
  mallopt(M_TOP_PAD, 256 << 20);        // grow it in large steps (untouched pages cost nothing)
#endif
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

int configure_threads(int threads) {
  // Processes started together on one machine (rlhf launch, torchrun) share its cores.
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  const int n = threads > 0 ? threads : std::max(1, cores / distributed_env_from_process().local_world_size);
  torch::set_num_threads(n);
  return n;
}

}  // namespace rlhf
