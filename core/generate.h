// Batched autoregressive sampling with a KV cache: greedy, temperature, top-k, top-p; seeded; stops at
// EOS or stop strings. Prompts of different lengths are left-padded. Sampling runs on the CPU with
// its own generator, so the same seed gives the same tokens whatever the device.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/gpt.h"
#include "core/tokenizer.h"

namespace rlhf {

struct SamplingConfig {
  int64_t max_new_tokens = 64;
  bool greedy = false;
  double temperature = 1.0;
  int64_t top_k = 0;     // 0: no top-k filter
  double top_p = 1.0;    // 1: no nucleus filter
  uint64_t seed = 1337;
  bool use_cache = true; // false recomputes the whole sequence each step (reference path for tests)
  std::vector<std::string> stop_strings;  // need a tokenizer
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SamplingConfig, max_new_tokens, greedy, temperature, top_k, top_p,
                                                seed, use_cache, stop_strings)

struct Generation {
  torch::Tensor tokens;    // (B, N) new tokens; after a row finishes it holds the EOS/pad id
  torch::Tensor logprobs;  // (B, N) log-prob of each new token under softmax(logits / temperature), 0 after the end
  torch::Tensor mask;      // (B, N) 1 for the row's real new tokens (including its EOS), 0 after
  std::vector<bool> finished;      // ended with EOS or a stop string (false: hit max_new_tokens)
  std::vector<std::string> texts;  // decoded new tokens without EOS, cut before a stop string (needs tokenizer)

  std::vector<TokenId> row_tokens(int64_t row) const;  // the real new tokens of one row
};

// eos_id < 0 disables stopping at EOS. The model runs in eval mode (restored afterwards) without grad.
Generation generate(GPT& model, const std::vector<std::vector<TokenId>>& prompts, const SamplingConfig& config,
                    TokenId eos_id, const Tokenizer* tokenizer = nullptr);

// Samples one token per row from (B, V) float logits on the CPU: returns (ids (B), logprobs (B)).
std::pair<torch::Tensor, torch::Tensor> sample_next(const torch::Tensor& logits, const SamplingConfig& config,
                                                    at::Generator& generator);

}  // namespace rlhf
