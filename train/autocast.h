// Mixed precision on CUDA: inside a BF16Autocast scope, matmuls and attention run in bfloat16 while
// weights, gradients and optimizer state stay float32 (LibTorch's autocast, as torch.autocast in
// Python); reductions such as the loss's softmax stay float32. On the CPU every stage runs in
// float32 for now.
#pragma once

#include <torch/torch.h>

#include <string>

namespace rlhf {

// "auto" (bf16 on CUDA, fp32 elsewhere), "bf16" or "fp32"; anything else is an error naming `field`.
bool use_bf16_autocast(const std::string& precision, const torch::Device& device, const std::string& field);

// Whether CUDA autocast is on with bfloat16 (the state a BF16Autocast scope sets).
bool cuda_bf16_autocast_enabled();

class BF16Autocast {
 public:
  explicit BF16Autocast(bool enabled);
  ~BF16Autocast();
  BF16Autocast(const BF16Autocast&) = delete;
  BF16Autocast& operator=(const BF16Autocast&) = delete;

 private:
  bool enabled_;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kHalf;
};

}  // namespace rlhf
