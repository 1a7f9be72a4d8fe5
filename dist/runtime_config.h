// A stage's runtime as its config names it: the device and the CPU threads (dist/runtime.h applies it).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace rlhf {

struct RuntimeConfig {
  std::string device = "auto";  // "auto", "cpu", "cuda" or "cuda:N"
  int threads = 0;              // 0: this process's share of the cores
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RuntimeConfig, device, threads)

}  // namespace rlhf
