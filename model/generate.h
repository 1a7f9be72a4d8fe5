// Batched autoregressive sampling with a KV cache: greedy, temperature, top-k, top-p; seeded; stops at
// EOS or stop strings. Prompts of different lengths are left-padded. Sampling runs on the model's
// device with its own seeded generator (no host round trip per token on a GPU): the same seed gives
// the same tokens on the same kind of device.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/gpt.h"
#include "text/tokenizer.h"

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

// A generator of its own for sampling on `device`, seeded: a CPU generator, or a clone of the
// device's default generator (so sampling does not move other users of that stream).
at::Generator sampling_generator(torch::Device device, uint64_t seed);

// Samples one token per row from (B, V) float logits, on their device: returns (ids (B), logprobs (B)).
std::pair<torch::Tensor, torch::Tensor> sample_next(const torch::Tensor& logits, const SamplingConfig& config,
                                                    at::Generator& generator);

}  // namespace rlhf
