// PPO's clipped objectives (Schulman et al. 2017) over the response tokens of a minibatch; all
// tensors (B, N) with the response mask.
#pragma once

#include <torch/torch.h>

namespace rlhf {

struct PolicyLoss {
  torch::Tensor loss;       // scalar: mean over tokens of max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps))
  torch::Tensor clip_frac;  // fraction of tokens where the clipped term was taken
  torch::Tensor approx_kl;  // 0.5 * mean (logp - old_logp)^2: how far this update moved the policy
  torch::Tensor ratio_mean;
};
PolicyLoss policy_loss(const torch::Tensor& logprobs, const torch::Tensor& old_logprobs, const torch::Tensor& advantages,
                       const torch::Tensor& mask, double clip_range);

struct ValueLoss {
  torch::Tensor loss;       // scalar: 0.5 * mean max((V - R)^2, (V_clipped - R)^2)
  torch::Tensor clip_frac;
};
// V_clipped = old_V + clip(V - old_V, -value_clip, value_clip); value_clip <= 0 disables clipping.
ValueLoss value_loss(const torch::Tensor& values, const torch::Tensor& old_values, const torch::Tensor& returns,
                     const torch::Tensor& mask, double value_clip);

// The KL term GRPO adds to its loss instead of putting a KL penalty in the reward (Shao et al.
// 2024, DeepSeekMath eq. 4): the k3 estimator exp(ref - logp) - (ref - logp) - 1 of KL(policy ||
// reference), per token, masked mean over the response tokens (token-level, as policy_loss
// averages). Padded positions count as logp = ref, so their exp cannot overflow.
torch::Tensor kl_loss(const torch::Tensor& logprobs, const torch::Tensor& ref_logprobs, const torch::Tensor& mask);

// Entropy per position from log-probabilities over the vocabulary: (B, N, V) -> (B, N).
torch::Tensor entropy_from_logprobs(const torch::Tensor& logp);

}  // namespace rlhf
