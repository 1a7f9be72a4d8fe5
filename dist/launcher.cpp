#include "dist/launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace rlhf {

namespace {

volatile sig_atomic_t forwarded_signal = 0;

void remember_signal(int sig) { forwarded_signal = sig; }

// Handlers for the signals the launcher forwards; the previous ones come back on destruction.
class SignalForwarding {
 public:
  SignalForwarding() {
    struct sigaction action {};
    action.sa_handler = remember_signal;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &action, &previous_[i]);
  }
  ~SignalForwarding() {
    for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &previous_[i], nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals{SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> previous_{};
};

int exit_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::string describe(int wait_status) {
  if (WIFSIGNALED(wait_status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(wait_status));
  return "exited with status " + std::to_string(exit_status(wait_status));
}

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  bool running = false;
};

pid_t start_worker(const LaunchConfig& config, const std::string& self_path, int local_rank, int port) {
  std::vector<std::string> args = config.command;
  if (args[0] == "rlhf") args[0] = self_path;  // the same build as the launcher
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("launch: fork failed: ") + std::strerror(errno));
  if (pid > 0) return pid;
  // The worker: its own process group, so a terminal's Ctrl+C reaches it once, through the launcher.
  setpgid(0, 0);
  const int world = config.nnodes * config.nproc;
  setenv("RANK", std::to_string(config.node_rank * config.nproc + local_rank).c_str(), 1);
  setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
  setenv("LOCAL_RANK", std::to_string(local_rank).c_str(), 1);
  setenv("LOCAL_WORLD_SIZE", std::to_string(config.nproc).c_str(), 1);
  setenv("GROUP_RANK", std::to_string(config.node_rank).c_str(), 1);
  setenv("MASTER_ADDR", config.master_addr.c_str(), 1);
  setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  setenv("RLHF_DIST_TIMEOUT_S", std::to_string(config.timeout_s).c_str(), 1);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::cerr << "launch: cannot run " + args[0] + ": " + std::strerror(errno) + "\n" << std::flush;
  _exit(127);
}

// One line on stderr in one write: the workers write to the same stream, and a line sent in pieces
// interleaves with theirs.
void report(const std::string& line) { std::cerr << line + "\n" << std::flush; }

void signal_all(const std::vector<Worker>& workers, int sig) {
  for (const auto& w : workers)
    if (w.running) kill(w.pid, sig);
}

}  // namespace

int find_free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("launch: no socket for finding a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) throw std::runtime_error("launch: could not find a free port (give --master-port)");
  return ntohs(addr.sin_port);
}

int launch(const LaunchConfig& config, const std::string& self_path) {
  if (config.command.empty()) throw std::runtime_error("launch: no command given (rlhf launch --nproc N -- rlhf sft ...)");
  if (config.nproc < 1) throw std::runtime_error("launch: --nproc must be >= 1");
  if (config.nnodes < 1 || config.node_rank < 0 || config.node_rank >= config.nnodes)
    throw std::runtime_error("launch: --node-rank must be in [0, --nnodes)");
  if (config.nnodes > 1 && config.master_port == 0)
    throw std::runtime_error("launch: --master-port is required with --nnodes > 1 (every machine must use the same)");
  const int port = config.master_port ? config.master_port : find_free_port();

  SignalForwarding forwarding;
  std::vector<Worker> workers;
  for (int i = 0; i < config.nproc; ++i)
    workers.push_back({config.node_rank * config.nproc + i, start_worker(config, self_path, i, port), true});
  for (const auto& w : workers) report("launch: rank " + std::to_string(w.rank) + " is pid " + std::to_string(w.pid));

  using Clock = std::chrono::steady_clock;
  // After a failure the others get the collective timeout plus a margin to stop by themselves
  // (reporting the lost peer), then SIGTERM, then SIGKILL.
  const auto grace = std::chrono::seconds(config.timeout_s + 30);
  std::optional<Clock::time_point> failed_at, terminated_at;
  int status = 0;
  int running = config.nproc;
  int signal_seen = 0;
  while (running > 0) {
    if (forwarded_signal && forwarded_signal != signal_seen) {
      signal_seen = forwarded_signal;
      signal_all(workers, signal_seen);
      if (!status) status = 128 + signal_seen;
      if (!failed_at) failed_at = Clock::now();
    }
    int wait_status = 0;
    const pid_t pid = waitpid(-1, &wait_status, WNOHANG);
    if (pid > 0) {
      for (auto& w : workers) {
        if (w.pid != pid || !w.running) continue;
        w.running = false;
        --running;
        const int code = exit_status(wait_status);
        if (code != 0) {
          report("launch: rank " + std::to_string(w.rank) + " (pid " + std::to_string(pid) + ") " + describe(wait_status));
          if (!status) status = code;
          if (!failed_at) failed_at = Clock::now();
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;  // no children left
    const auto now = Clock::now();
    if (failed_at && !terminated_at && now - *failed_at > grace) {
      report("launch: terminating the workers still running " + std::to_string(config.timeout_s + 30) + " s after the failure");
      signal_all(workers, SIGTERM);
      terminated_at = now;
    }
    if (terminated_at && now - *terminated_at > std::chrono::seconds(10)) signal_all(workers, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status;
}

}  // namespace rlhf
