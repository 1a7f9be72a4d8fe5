// Hyperparameters of the GPT-2 architecture (the names follow nanoGPT / HF GPT2Config).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

namespace rlhf {

struct GPTConfig {
  int64_t n_layer = 4;
  int64_t n_head = 4;
  int64_t n_embd = 256;
  int64_t block_size = 128;  // maximum context length (HF: n_positions)
  int64_t vocab_size = 50257;
  double dropout = 0.0;      // embedding, attention and residual dropout
  bool bias = true;          // biases in Linear and LayerNorm layers, as GPT-2
  double layer_norm_epsilon = 1e-5;

  // Throws with the field at fault when the shape cannot work (e.g. n_embd % n_head != 0).
  void validate() const;
  int64_t head_size() const { return n_embd / n_head; }
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(GPTConfig, n_layer, n_head, n_embd, block_size, vocab_size,
                                                dropout, bias, layer_norm_epsilon)

}  // namespace rlhf
