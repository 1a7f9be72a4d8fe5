// Helpers shared by the LibTorch tests: small seeded models (and test_util.h's paths and TempDir).
#pragma once

#include <torch/torch.h>

#include "model/gpt.h"
#include "test_util.h"

namespace rlhf::test {

inline GPTConfig tiny_config() {
  GPTConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.block_size = 32;
  c.vocab_size = 50;
  return c;
}

inline GPT tiny_model(uint64_t seed = 0, GPTConfig config = tiny_config()) {
  torch::manual_seed(seed);
  GPT model(config);
  model->eval();
  return model;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

}  // namespace rlhf::test
