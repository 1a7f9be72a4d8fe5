// Phase 1 of a PPO iteration: sample responses with the KV-cache generator and record everything the
// update needs - tokens, masks, the policy's and the reference's log-probs, values - and, after
// scoring, the per-token rewards, advantages and returns (PPO) or the group advantages of each
// prompt's k responses (RLOO, GRPO: no values, no returns).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "dist/distributed.h"
#include "model/generate.h"
#include "model/gpt.h"
#include "ppo/policy_value.h"
#include "text/tokenizer.h"

namespace rlhf {

struct Rollout {
  std::vector<std::string> prompts;    // chat-format prompt texts
  std::vector<std::string> responses;  // decoded responses (without EOS)
  std::vector<std::vector<TokenId>> response_tokens;
  std::vector<bool> finished;          // ended with EOS (false: hit max_new_tokens)
  int64_t prompt_length = 0;           // P
  torch::Tensor ids;                   // (B, P + N) left-padded prompt, response, right padding
  torch::Tensor attention_mask;        // (B, P + N) 1 for real tokens
  torch::Tensor mask;                  // (B, N) float, 1 for the real response tokens (EOS included)
  torch::Tensor logprobs;              // (B, N) under the policy that sampled them
  torch::Tensor ref_logprobs;          // (B, N) under the frozen reference
  torch::Tensor values;                // (B, N); undefined without a value function
  torch::Tensor scores;                // (B) score entering the reward (after scale, clip and EOS penalty)
  torch::Tensor kl;                    // (B, N) per-token KL estimate (masked)
  torch::Tensor rewards;               // (B, N) -beta * kl (KL in the reward), plus the score at the last real token
  torch::Tensor advantages;            // (B, N) whitened when configured
  torch::Tensor returns;               // (B, N) the value targets (PPO)
  torch::Tensor sequence_returns;      // (B) rloo/grpo: each response's return, the sum of its rewards

  int64_t size() const { return static_cast<int64_t>(prompts.size()); }
  int64_t response_tokens_total() const;
};

// Samples one response per prompt (prompt ids already truncated to fit the context with the
// response), `chunk` prompts per generate call, and lays them out as one batch.
Rollout sample_rollout(GPT& policy, const std::vector<std::string>& prompts,
                       const std::vector<std::vector<TokenId>>& prompt_ids, const SamplingConfig& sampling,
                       const Tokenizer& tokenizer, int64_t chunk);

// Fills logprobs, values (policy_value, eval mode; none without a value function) and ref_logprobs,
// `chunk` rows at a time, without grad.
void evaluate_rollout(Rollout& rollout, PolicyValue& model, GPT& reference, double temperature, int64_t chunk);

struct RewardShaping {
  double beta = 0.05;
  std::string kl_estimator = "k1";
  double score_scale = 1.0;           // multiplies the raw score first (PpoConfig::score_scale)
  double score_clip = 0.0;
  double missing_eos_penalty = 0.0;   // >= 0, subtracted from unfinished responses' scores
  double gamma = 1.0, lambda = 0.95;
  bool whiten_advantages = true;
  Distributed* across_ranks = nullptr;  // data parallel: whiten with the moments of every rank's rollout
};

// raw_scores (B): the reward model's (normalised) or the rule's score of each response. Fills
// scores (raw * score_scale, clipped, minus the missing-EOS penalty), kl, rewards, advantages and returns.
void shape_rewards(Rollout& rollout, const torch::Tensor& raw_scores, const RewardShaping& shaping);

// RLOO and GRPO: the rollout's rows are groups of `samples_per_prompt` consecutive responses to one
// prompt. Fills scores and kl as shape_rewards does, then sequence_returns (the score, minus beta *
// the summed KL unless kl_in_loss), the group advantages (ppo/group_advantages.h) broadcast to every
// response token, whitened across the rollout when configured; gamma and lambda do not apply.
struct GroupShaping {
  std::string algorithm = "rloo";  // or "grpo"
  int64_t samples_per_prompt = 2;
  bool kl_in_loss = false;
};
void shape_group_rewards(Rollout& rollout, const torch::Tensor& raw_scores, const RewardShaping& shaping,
                         const GroupShaping& group);

// Rows `rows` (long indices) of a (B, ...) rollout tensor.
torch::Tensor take_rows(const torch::Tensor& tensor, const torch::Tensor& rows);

}  // namespace rlhf
