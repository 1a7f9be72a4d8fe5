#include "model/precision.h"

#include <ATen/autocast_mode.h>
#include <ATen/cpu/Utils.h>

#include <stdexcept>

namespace rlhf {

std::string Precision::describe() const {
  return "precision " + setting + ": " + (bf16 ? "bf16 autocast" : "fp32") + " (" + reason + ")";
}

nlohmann::json Precision::to_json() const {
  return {{"setting", setting}, {"autocast", bf16 ? "bf16" : "off"}, {"reason", reason}};
}

std::string cpu_bf16_units() {
  const auto capabilities = at::cpu::get_cpu_capabilities();
  auto has = [&](const char* name) {
    auto it = capabilities.find(name);
    return it != capabilities.end() && it->second.isBool() && it->second.toBool();
  };
  if (has("amx_bf16")) return "AMX";
  if (has("avx512_bf16")) return "AVX512-BF16";
  return "";
}

Precision choose_precision(const std::string& setting, const torch::Device& device, const std::string& field,
                           const std::string& cpu_units) {
  Precision p;
  p.setting = setting;
  if (setting == "fp32") {
    p.reason = "set to fp32";
  } else if (setting == "bf16") {
    p.bf16 = true;
    p.reason = device.is_cpu() && cpu_units.empty() ? "set to bf16; this CPU has no bf16 units: emulated, slow"
                                                    : "set to bf16";
  } else if (setting == "auto") {
    if (device.is_cuda()) {
      p.bf16 = true, p.reason = "CUDA";
    } else if (device.is_cpu() && !cpu_units.empty()) {
      p.bf16 = true, p.reason = "CPU with " + cpu_units;
    } else {
      p.reason = device.is_cpu() ? "CPU without bf16 units" : device.str();
    }
  } else {
    throw std::runtime_error(field + " \"" + setting + "\": expected auto, bf16 or fp32");
  }
  return p;
}

bool bf16_autocast_enabled(const torch::Device& device) {
  return at::autocast::is_autocast_enabled(device.type()) &&
         at::autocast::get_autocast_dtype(device.type()) == at::kBFloat16;
}

BF16Autocast::BF16Autocast(bool enabled, const torch::Device& device) : enabled_(enabled), type_(device.type()) {
  if (!enabled_) return;
  was_enabled_ = at::autocast::is_autocast_enabled(type_);
  previous_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_dtype(type_, at::kBFloat16);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::increment_nesting();
}

BF16Autocast::~BF16Autocast() {
  if (!enabled_) return;
  // The cast weights are cached for the outermost scope only; drop them when it ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
  at::autocast::set_autocast_dtype(type_, previous_dtype_);
}

}  // namespace rlhf
