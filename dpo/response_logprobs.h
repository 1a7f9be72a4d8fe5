// The log-likelihood of each response under a GPT, the quantity DPO compares between the policy and
// its reference: log p(response tokens and EOS | prompt), summed over those tokens.
#pragma once

#include <torch/torch.h>

#include "model/gpt.h"
#include "reward/reward_model.h"

namespace rlhf {

struct ResponseLogprobs {
  torch::Tensor sum;     // (B) float: sum over the response's tokens of log p(token | everything before)
  torch::Tensor tokens;  // (B) float: how many tokens that is (the EOS included)
};

// One forward of the right-padded batch (prompt + response + EOS per row, reward/reward_model.h);
// with grad when grad mode is on. Padding and prompt tokens are never scored.
ResponseLogprobs response_logprobs(GPT& model, const PaddedSequences& batch);

}  // namespace rlhf
