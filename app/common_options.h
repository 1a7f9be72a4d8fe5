// Options shared by the commands that run a model: --device and --threads.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "dist/runtime.h"

namespace rlhf::app {

struct RuntimeFlags {
  std::string device = "auto";
  int threads = 0;

  void add_to(CLI::App* command) {
    command->add_option("--device", device, "cpu, cuda, cuda:N or auto")->capture_default_str();
    command->add_option("--threads", threads, "CPU threads (0: the measured default)")->capture_default_str();
  }
  torch::Device apply() const {
    configure_threads(threads);
    return select_device(device);
  }
};

}  // namespace rlhf::app
