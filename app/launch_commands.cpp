// launch: run a command as N data-parallel worker processes (dist/launcher.h).
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <memory>

#include "app/commands.h"
#include "dist/launcher.h"

namespace rlhf::app {

namespace {

std::string self_path(const char* fallback) {
  char path[PATH_MAX] = {};
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, n) : fallback;
}

}  // namespace

void register_launch_command(CLI::App& app) {
  auto config = std::make_shared<LaunchConfig>();
  auto* cmd = app.add_subcommand("launch", "Run a training command as N data-parallel processes (torchrun-compatible env)");
  cmd->add_option("--nproc", config->nproc, "Worker processes on this machine")->check(CLI::PositiveNumber);
  cmd->add_option("--nnodes", config->nnodes, "Machines in the job (each runs rlhf launch)")->check(CLI::PositiveNumber);
  cmd->add_option("--node-rank", config->node_rank, "This machine's index in [0, nnodes)");
  cmd->add_option("--master-addr", config->master_addr, "Address of rank 0's machine (the rendezvous)");
  cmd->add_option("--master-port", config->master_port, "Rendezvous port (default: a free port; required with --nnodes > 1)");
  cmd->add_option("--timeout", config->timeout_s, "Seconds a collective waits for a peer before failing")->check(CLI::PositiveNumber);
  cmd->add_option("command", config->command, "The worker command after --, e.g. -- rlhf sft --config F")->required();
  cmd->callback([config] { std::exit(launch(*config, self_path("rlhf"))); });
}

}  // namespace rlhf::app
