#include "dist/distributed.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <stdexcept>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef RLHF_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef RLHF_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace rlhf {

namespace {

using Clock = std::chrono::steady_clock;

int parse_int(const char* name, const char* value, int min, int max) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value, &end, 10);
  if (errno || end == value || *end != '\0' || v < min || v > max)
    throw std::runtime_error(std::string("environment variable ") + name + "=\"" + value + "\": expected an integer in [" +
                             std::to_string(min) + ", " + std::to_string(max) + "]");
  return static_cast<int>(v);
}

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

// Whether a process on this host has ended: gone, or a zombie its parent has not reaped yet. A
// peer killed a moment ago may still be exiting, so this waits up to a second for it.
bool process_gone(pid_t pid) {
  if (pid <= 0) return false;
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');  // the state follows the command name in parentheses
    if (close != std::string::npos && close + 2 < text.size() && (text[close + 2] == 'Z' || text[close + 2] == 'X'))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

}  // namespace

DistributedEnv distributed_env(const std::function<const char*(const char*)>& lookup) {
  DistributedEnv env;
  const char* world = lookup("WORLD_SIZE");
  if (!world) return env;
  env.world_size = parse_int("WORLD_SIZE", world, 1, 1 << 20);
  env.in_job = true;
  const char* rank = lookup("RANK");
  if (!rank && env.world_size == 1) return env;  // WORLD_SIZE=1 alone: a job of one on this host
  if (!rank) throw std::runtime_error("environment: WORLD_SIZE is " + std::to_string(env.world_size) + " but RANK is not set");
  env.rank = parse_int("RANK", rank, 0, env.world_size - 1);
  if (const char* v = lookup("LOCAL_RANK")) env.local_rank = parse_int("LOCAL_RANK", v, 0, env.world_size - 1);
  if (const char* v = lookup("LOCAL_WORLD_SIZE")) env.local_world_size = parse_int("LOCAL_WORLD_SIZE", v, 1, env.world_size);
  if (const char* v = lookup("MASTER_ADDR")) env.master_addr = v;
  if (env.master_addr.empty()) throw std::runtime_error("environment variable MASTER_ADDR is empty");
  if (const char* v = lookup("MASTER_PORT")) env.master_port = parse_int("MASTER_PORT", v, 1, 65535);
  if (const char* v = lookup("RLHF_DIST_TIMEOUT_S"))
    env.timeout = std::chrono::seconds(parse_int("RLHF_DIST_TIMEOUT_S", v, 1, 24 * 3600));
  return env;
}

DistributedEnv distributed_env_from_process() {
  return distributed_env([](const char* name) { return std::getenv(name); });
}

RowRange shard_rows(int64_t n, int rank, int world_size) {
  return {n * rank / world_size, n * (rank + 1) / world_size};
}

std::vector<std::vector<size_t>> make_buckets(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes) {
  std::vector<std::vector<size_t>> buckets;
  int64_t bytes = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    const int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
    const bool fits = !buckets.empty() && bytes + size <= bucket_bytes &&
                      tensors[buckets.back().front()].scalar_type() == t.scalar_type() &&
                      tensors[buckets.back().front()].device() == t.device();
    if (!fits) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(i);
    bytes += size;
  }
  return buckets;
}

std::vector<std::string> compiled_backends() {
  std::vector<std::string> names;
#ifdef RLHF_WITH_GLOO
  names.push_back("gloo");
#endif
#ifdef RLHF_WITH_NCCL
  names.push_back("nccl");
#endif
  return names;
}

std::string nccl_version() {
#ifdef RLHF_WITH_NCCL
  return c10d::getNcclVersion();
#else
  return "";
#endif
}

// The store and the backend. Gloo in every build; NCCL when the build has it and the device is CUDA.
class ProcessGroupHandle {
 public:
  c10::intrusive_ptr<c10d::Store> store;
#ifdef RLHF_WITH_GLOO
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#ifdef RLHF_WITH_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
  torch::Device nccl_device = torch::kCPU;  // this rank's GPU: NCCL reduces tensors that live there
#endif
  std::vector<std::string> peers;  // "host pid" of every rank, for naming a lost peer

  template <class Op>
  c10::intrusive_ptr<c10d::Work> call(Op&& op) {
#ifdef RLHF_WITH_NCCL
    if (nccl) return op(*nccl);
#endif
#ifdef RLHF_WITH_GLOO
    return op(*gloo);
#else
    throw std::logic_error("no process group");
#endif
  }
};

Distributed::Distributed() = default;

Distributed::Distributed(const DistributedEnv& env, torch::Device device) : env_(env) {
  if (!env_.in_job) return;
  group_ = std::make_unique<ProcessGroupHandle>();
  const std::string where = "rank " + std::to_string(env_.rank) + " of " + std::to_string(env_.world_size);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env_.master_port);
    options.isServer = env_.rank == 0;
    options.numWorkers = env_.world_size;
    options.waitWorkers = true;
    options.timeout = env_.timeout;
    group_->store = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, options);
  } catch (const std::exception& e) {
    throw std::runtime_error("distributed: " + where + " could not join the rendezvous at " + env_.master_addr + ":" +
                             std::to_string(env_.master_port) + " within " +
                             std::to_string(env_.timeout.count() / 1000) + " s (MASTER_ADDR/MASTER_PORT): " +
                             std::string(e.what()).substr(0, 300));
  }
  // Every rank says who it is, so an error can name the peer that went away.
  const std::string me = host_name() + " " + std::to_string(getpid());
  group_->store->set("rlhf/peer/" + std::to_string(env_.rank), std::vector<uint8_t>(me.begin(), me.end()));
  for (int r = 0; r < env_.world_size; ++r) {
    auto value = group_->store->get("rlhf/peer/" + std::to_string(r));
    group_->peers.emplace_back(value.begin(), value.end());
  }
  if (device.is_cuda()) {
#ifdef RLHF_WITH_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = env_.timeout;
    group_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(group_->store, env_.rank, env_.world_size, options);
    group_->nccl_device = device;
    return;
#else
    throw std::runtime_error("distributed: this build has no NCCL backend for CUDA tensors; run on the CPU (Gloo)");
#endif
  }
#ifdef RLHF_WITH_GLOO
  auto options = c10d::ProcessGroupGloo::Options::create(env_.timeout);
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  else if (is_loopback(env_.master_addr))
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  else
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  options->threads = 2;
  try {
    group_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, env_.rank, env_.world_size, options);
  } catch (const std::exception& e) {
    fail("connecting the process group", e.what());
  }
#else
  throw std::runtime_error("distributed: this build has no Gloo backend for CPU training (install libgloo-dev and rebuild)");
#endif
}

Distributed::~Distributed() = default;

void Distributed::fail(const char* what, const std::string& detail) {
  std::ostringstream message;
  message << "distributed: rank " << env_.rank << " of " << env_.world_size << ": " << what << " failed";
  // Name the peers that are gone: on this host a process that no longer exists is certain.
  std::vector<std::string> lost;
  const std::string here = host_name();
  for (int r = 0; group_ && r < static_cast<int>(group_->peers.size()); ++r) {
    if (r == env_.rank) continue;
    std::istringstream peer(group_->peers[r]);
    std::string host;
    pid_t pid = 0;
    peer >> host >> pid;
    if (host == here && process_gone(pid))
      lost.push_back("rank " + std::to_string(r) + " (pid " + std::to_string(pid) + " on " + host + ") is gone");
  }
  if (!lost.empty()) {
    message << ": lost peer ";
    for (size_t i = 0; i < lost.size(); ++i) message << (i ? ", " : "") << lost[i];
  } else {
    message << ": a peer stopped answering or timed out after " << env_.timeout.count() / 1000
            << " s (RLHF_DIST_TIMEOUT_S)";
  }
  // Gloo's own message first line only: it names the socket and the operation.
  message << " [" << detail.substr(0, detail.find('\n')) << "]";
  throw std::runtime_error(message.str());
}

void Distributed::run(const char* what, const std::function<void()>& op) {
  if (!active()) return;
  const auto start = Clock::now();
  try {
    op();
  } catch (const std::exception& e) {
    fail(what, e.what());
  }
  communication_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
}

double Distributed::take_communication_seconds() {
  const double s = communication_seconds_;
  communication_seconds_ = 0.0;
  return s;
}

void Distributed::all_reduce_sum(torch::Tensor& tensor, const char* what) {
  run(what, [&] {
    std::vector<torch::Tensor> tensors{tensor};
    group_->call([&](auto& g) { return g.allreduce(tensors); })->wait();
  });
}

std::vector<double> Distributed::reduce(std::vector<double> values, int op, const char* what) {
  if (!active()) return values;
  auto t = torch::tensor(values, torch::kDouble);
#ifdef RLHF_WITH_NCCL
  if (group_->nccl) t = t.to(group_->nccl_device);
#endif
  run(what, [&] {
    std::vector<torch::Tensor> tensors{t};
    c10d::AllreduceOptions options;
    options.reduceOp = static_cast<c10d::ReduceOp::RedOpType>(op);
    group_->call([&](auto& g) { return g.allreduce(tensors, options); })->wait();
  });
  t = t.cpu();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

std::vector<double> Distributed::sum(std::vector<double> values, const char* what) {
  return reduce(std::move(values), c10d::ReduceOp::SUM, what);
}
std::vector<double> Distributed::min(std::vector<double> values, const char* what) {
  return reduce(std::move(values), c10d::ReduceOp::MIN, what);
}
std::vector<double> Distributed::max(std::vector<double> values, const char* what) {
  return reduce(std::move(values), c10d::ReduceOp::MAX, what);
}

void Distributed::verify_replicas(torch::nn::Module& module) {
  if (!active()) return;
  torch::NoGradGuard no_grad;
  // Reduced where the weights live, read once: no host round trip per parameter.
  std::vector<torch::Tensor> sums, squares;
  for (const auto& p : module.parameters()) {
    auto d = p.detach().to(torch::kDouble);
    sums.push_back(d.sum());
    squares.push_back(d.square().sum());
  }
  if (sums.empty()) return;
  auto totals = torch::stack({torch::stack(sums).sum(), torch::stack(squares).sum()}).to(torch::kCPU);  // (2)
  const double sum = totals[0].item<double>(), sum_sq = totals[1].item<double>();
  const auto low = min({sum, sum_sq}, "comparing the replicas"), high = max({sum, sum_sq}, "comparing the replicas");
  if (low != high)
    throw std::runtime_error("distributed: rank " + std::to_string(rank()) +
                             ": the ranks' parameters differ (fingerprint sums range over [" + std::to_string(low[0]) +
                             ", " + std::to_string(high[0]) + "]); not writing a checkpoint from diverged replicas");
}

void Distributed::barrier(const char* what) {
  run(what, [&] { group_->call([&](auto& g) { return g.barrier(); })->wait(); });
}

void Distributed::main_first(const char* what, const std::function<void()>& work) {
  if (!active()) return work();
  // Preparing (training a tokenizer, tokenizing a corpus) can take far longer than a collective
  // may wait, so the others wait on a key in rank 0's store instead, for hours; if rank 0 dies
  // meanwhile the store goes with it and the wait fails at once.
  const std::string key = "rlhf/main_first/" + std::to_string(main_first_calls_++);
  if (is_main()) {
    work();
    run(what, [&] { group_->store->set(key, std::vector<uint8_t>{1}); });
  } else {
    run(what, [&] { group_->store->wait({key}, std::max<std::chrono::milliseconds>(env_.timeout, std::chrono::hours(12))); });
    work();
  }
}

namespace {

// Runs `collective` on each bucket of `tensors`, flattened into one buffer and copied back.
template <class Collective>
void for_each_bucket(std::vector<torch::Tensor>& tensors, int64_t bucket_bytes, Collective&& collective) {
  for (const auto& bucket : make_buckets(tensors, bucket_bytes)) {
    std::vector<torch::Tensor> parts;
    for (size_t i : bucket) parts.push_back(tensors[i].reshape({-1}));
    auto flat = torch::cat(parts);  // (sum of numel)
    collective(flat);
    int64_t offset = 0;
    for (size_t i : bucket) {
      auto& t = tensors[i];
      t.copy_(flat.narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

}  // namespace

void Distributed::broadcast_parameters(torch::nn::Module& module) {
  if (!active()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (const auto& p : module.parameters()) tensors.push_back(p);
  for (const auto& b : module.buffers()) tensors.push_back(b);
  for_each_bucket(tensors, kDefaultBucketBytes, [&](torch::Tensor& flat) {
    run("broadcasting the parameters from rank 0", [&] {
      std::vector<torch::Tensor> one{flat};
      group_->call([&](auto& g) { return g.broadcast(one); })->wait();
    });
  });
}

void Distributed::all_reduce_gradients(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes) {
  if (!active()) return;
  std::vector<torch::Tensor> grads;
  for (auto p : parameters) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  for_each_bucket(grads, bucket_bytes, [&](torch::Tensor& flat) { all_reduce_sum(flat, "all-reducing the gradients"); });
}

namespace {

std::unique_ptr<Distributed>& process_context() {
  static std::unique_ptr<Distributed> context;
  return context;
}

}  // namespace

Distributed& init_distributed(torch::Device device) {
  auto& context = process_context();
  if (!context) context = std::make_unique<Distributed>(distributed_env_from_process(), device);
  return *context;
}

Distributed& distributed() {
  static Distributed single_process;
  auto& context = process_context();
  return context ? *context : single_process;
}

void require_single_process(const std::string& command) {
  const auto env = distributed_env_from_process();
  if (env.world_size > 1)
    throw std::runtime_error(command + " does not run data-parallel (WORLD_SIZE is " + std::to_string(env.world_size) +
                             "); run it as one process, without rlhf launch");
}

}  // namespace rlhf
