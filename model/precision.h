// Mixed precision: inside a BF16Autocast scope on a device, matmuls and attention run in bfloat16
// while weights, gradients and optimizer state stay float32 (LibTorch's autocast, as torch.autocast
// in Python); reductions such as the loss's softmax stay float32.
//
// A stage's `precision` setting:
//   auto  bf16 autocast on CUDA and on a CPU with bf16 matrix units (AMX or AVX512-BF16, the ISA
//         oneDNN's bf16 kernels need to be faster than fp32), fp32 elsewhere;
//   bf16  bf16 autocast on any device (on a CPU without the units oneDNN emulates it: slow);
//   fp32  no autocast.
// Everything one stage runs (training forward, sampling, scoring, evaluation) uses one choice, so
// that log-probs recorded during a rollout match the ones a training forward recomputes.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>

namespace rlhf {

struct Precision {
  std::string setting = "fp32";  // as configured: auto, bf16 or fp32
  bool bf16 = false;             // autocast on
  std::string reason;            // why: "CUDA", "CPU with AMX", "set to bf16", ...

  // "precision auto: bf16 autocast (CPU with AVX512-BF16)"
  std::string describe() const;
  // {"setting": "auto", "autocast": "bf16" | "off", "reason": "..."} for summary.json
  nlohmann::json to_json() const;
};

// The CPU's bf16 matrix units as oneDNN uses them: "AMX", "AVX512-BF16", or "" when it has none.
std::string cpu_bf16_units();

// What `setting` means on `device`; anything but auto, bf16 or fp32 is an error naming `field`.
// `cpu_units` is cpu_bf16_units() (a parameter so that both kinds of CPU can be tested anywhere).
Precision choose_precision(const std::string& setting, const torch::Device& device, const std::string& field,
                           const std::string& cpu_units = cpu_bf16_units());

// Whether autocast to bfloat16 is on for `device`'s type (the state a BF16Autocast scope sets).
bool bf16_autocast_enabled(const torch::Device& device);

// Turns bf16 autocast on for `device`'s type for the scope's lifetime (nothing when not enabled);
// scopes nest, and the outermost one drops autocast's cache of cast weights when it ends.
class BF16Autocast {
 public:
  BF16Autocast(bool enabled, const torch::Device& device);
  ~BF16Autocast();
  BF16Autocast(const BF16Autocast&) = delete;
  BF16Autocast& operator=(const BF16Autocast&) = delete;

 private:
  bool enabled_;
  c10::DeviceType type_;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

}  // namespace rlhf
