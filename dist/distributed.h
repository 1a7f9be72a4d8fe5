// Data parallelism across processes on PyTorch's own distributed engine (c10d): Gloo on the CPU,
// NCCL for CUDA builds that have it, a TCPStore on rank 0 for the rendezvous.
//
// A process joins a job when its environment says so, with the names and meaning of PyTorch's
// env:// rendezvous (torchrun, Slurm and Kubernetes launchers set them; so does `rlhf launch`):
//   RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (+ LOCAL_WORLD_SIZE for the thread split).
// Without WORLD_SIZE the process is alone and every collective below is a no-op, so the stages call
// them unconditionally.
//
// How a step stays equal to the one-process step: every rank draws the same global batch from
// (seed, step), takes its rows (`rows`), and scales its loss shares by its fraction of the batch;
// the shares of all ranks then sum to the one-process step loss, and summing the gradients across
// ranks gives the one-process gradient.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rlhf {

struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};  // RLHF_DIST_TIMEOUT_S
  bool in_job = false;  // WORLD_SIZE was set: join a process group, even a group of one (torchrun --nproc-per-node 1)
};

// Reads the variables through `lookup` (nullptr when unset); a malformed value is an error naming it.
DistributedEnv distributed_env(const std::function<const char*(const char*)>& lookup);
DistributedEnv distributed_env_from_process();

// The rows [begin, end) of an n-row batch that rank `rank` of `world_size` takes: contiguous, sizes
// differ by at most one.
struct RowRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
RowRange shard_rows(int64_t n, int rank, int world_size);

// Gradients are all-reduced in buckets of about this many bytes (PyTorch DDP's default: 25 MiB):
// few large messages instead of one per parameter.
constexpr int64_t kDefaultBucketBytes = 25 * 1024 * 1024;
// Groups tensors (in order, same dtype and device) into buckets of at most `bucket_bytes` (a tensor
// larger than that gets its own bucket). Returns indices into `tensors`.
std::vector<std::vector<size_t>> make_buckets(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes);

// The c10d backends this build can start: "gloo" (CPU tensors) and "nccl" (CUDA tensors).
std::vector<std::string> compiled_backends();
// The NCCL library's version ("2.28.9"), read from the library itself (no GPU needed); empty in a
// build without NCCL.
std::string nccl_version();

class ProcessGroupHandle;  // the c10d objects, kept out of this header

class Distributed {
 public:
  // A single process: no process group.
  Distributed();
  // Joins the job described by env when env.in_job (blocks until every rank has joined, or fails
  // after the timeout).
  Distributed(const DistributedEnv& env, torch::Device device);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool is_main() const { return env_.rank == 0; }
  bool active() const { return group_ != nullptr; }
  const DistributedEnv& env() const { return env_; }

  RowRange rows(int64_t n) const { return shard_rows(n, env_.rank, env_.world_size); }

  // Copies rank 0's parameters and buffers into every rank's module.
  void broadcast_parameters(torch::nn::Module& module);
  // Sums the gradients of `parameters` across ranks in buckets (a parameter without a gradient counts
  // as zeros, and gets one when another rank has one).
  void all_reduce_gradients(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes = kDefaultBucketBytes);
  // Sums in place across ranks.
  void all_reduce_sum(torch::Tensor& tensor, const char* what);
  std::vector<double> sum(std::vector<double> values, const char* what);
  std::vector<double> min(std::vector<double> values, const char* what);
  std::vector<double> max(std::vector<double> values, const char* what);
  double sum(double value, const char* what) { return sum(std::vector<double>{value}, what)[0]; }
  void barrier(const char* what);
  // Rank 0 runs `work` first (e.g. tokenizing into a cache), then the others, which find its results.
  void main_first(const char* what, const std::function<void()>& work);

  // Throws unless every rank holds bit-identical parameters (compares fingerprints: the sums of the
  // parameters and of their squares, in double). Called before a checkpoint is written.
  void verify_replicas(torch::nn::Module& module);

  // Seconds spent inside collectives since the last call (for the throughput figures).
  double take_communication_seconds();

 private:
  void run(const char* what, const std::function<void()>& op);
  std::vector<double> reduce(std::vector<double> values, int op, const char* what);
  [[noreturn]] void fail(const char* what, const std::string& detail);

  DistributedEnv env_;
  std::unique_ptr<ProcessGroupHandle> group_;
  double communication_seconds_ = 0.0;
  int64_t main_first_calls_ = 0;  // the same sequence on every rank: names the store keys
};

// The process's distributed context. `init_distributed` joins the job the environment describes
// (once; later calls return the same context); `distributed()` is that context, or a single-process
// one before any init.
Distributed& init_distributed(torch::Device device);
Distributed& distributed();
// Throws for a command that does not run data-parallel when the environment asks for more than one
// process (e.g. `rlhf eval` under `rlhf launch`).
void require_single_process(const std::string& command);

}  // namespace rlhf
