// AdamW whose step updates all of a parameter group's tensors with multi-tensor ("foreach") kernels:
// one call per operation for the whole group instead of LibTorch's C++ AdamW, which loops over the
// parameters and launches every operation once per tensor. On a GPU that is the difference between a
// handful of kernel launches per step and thousands; on the CPU the arithmetic is the same.
//
// It is a torch::optim::AdamW (same options, same per-parameter state, same save/load format), so
// checkpoints move between the two; the update equals AdamW's (decoupled weight decay, bias
// correction), element for element.
#pragma once

#include <torch/torch.h>

namespace rlhf {

class ForeachAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace rlhf
