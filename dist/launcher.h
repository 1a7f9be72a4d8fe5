// `rlhf launch`: starts the worker processes of a data-parallel job on this machine with the
// environment PyTorch's env:// rendezvous defines (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT), like `torchrun --nproc-per-node N`, then supervises them: SIGINT,
// SIGTERM and SIGHUP are forwarded to every worker, and when one worker fails the others get a bounded
// time to stop on their own (they report the lost peer) before they are terminated.
#pragma once

#include <string>
#include <vector>

namespace rlhf {

struct LaunchConfig {
  int nproc = 1;                       // workers on this machine
  int nnodes = 1;                      // machines in the job (each runs its own launcher)
  int node_rank = 0;                   // this machine's index; its workers get RANK node_rank * nproc + i
  std::string master_addr = "127.0.0.1";
  int master_port = 0;                 // 0: a free port (one machine only; several need the same port)
  int timeout_s = 300;                 // RLHF_DIST_TIMEOUT_S for the workers' collectives
  std::vector<std::string> command;    // the worker command; "rlhf" means this binary
};

// Runs the job; returns the launcher's exit status: 0 when every worker succeeded, else the first
// failing worker's status (128 + signal for a worker killed by a signal, or for a forwarded signal).
int launch(const LaunchConfig& config, const std::string& self_path);

// A TCP port on 127.0.0.1 that was free a moment ago.
int find_free_port();

}  // namespace rlhf
