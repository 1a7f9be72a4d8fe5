#include "train/autocast.h"

#include <ATen/autocast_mode.h>

#include <stdexcept>

namespace rlhf {

namespace {

bool cuda_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
void set_cuda_enabled(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
at::ScalarType cuda_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
void set_cuda_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCUDA, t); }

}  // namespace

bool use_bf16_autocast(const std::string& precision, const torch::Device& device, const std::string& field) {
  if (precision == "auto") return device.is_cuda();
  if (precision == "fp32") return false;
  if (precision == "bf16") {
    if (!device.is_cuda()) throw std::runtime_error(field + " \"bf16\" needs a CUDA device (use \"auto\" or \"fp32\" on the CPU)");
    return true;
  }
  throw std::runtime_error(field + " \"" + precision + "\": expected auto, bf16 or fp32");
}

bool cuda_bf16_autocast_enabled() { return cuda_enabled() && cuda_dtype() == at::kBFloat16; }

BF16Autocast::BF16Autocast(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  was_enabled_ = cuda_enabled();
  previous_dtype_ = cuda_dtype();
  set_cuda_dtype(at::kBFloat16);
  set_cuda_enabled(true);
  at::autocast::increment_nesting();
}

BF16Autocast::~BF16Autocast() {
  if (!enabled_) return;
  // The cast weights are cached for the outermost scope only; drop them when it ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_cuda_enabled(was_enabled_);
  set_cuda_dtype(previous_dtype_);
}

}  // namespace rlhf
