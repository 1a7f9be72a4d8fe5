// Critic-free advantages (RLOO, GRPO): each prompt's k sampled responses form a group, and a
// response is judged against the other members of its group instead of against a value function.
// Pure tensor functions: returns (P, k), one row per prompt, one column per sample -> (P, k).
#pragma once

#include <string>

#include <torch/torch.h>

namespace rlhf {

// TRL's GRPOTrainer adds 1e-4 to the group std (OpenRLHF 1e-9): a group whose responses all scored
// the same gets advantages of exactly 0, not 0 / 0.
inline constexpr double kGrpoStdEps = 1e-4;

// The sequence return of each response: its score, minus beta * its summed per-token KL when the
// KL penalty is in the reward. scores (B), kl (B, N) masked -> (B).
torch::Tensor sequence_returns(const torch::Tensor& scores, const torch::Tensor& kl, double beta, bool kl_in_reward);

// RLOO (Kool et al. 2019; Ahmadian et al. 2024): A_i = R_i - mean_{j != i} R_j over the group, the
// leave-one-out baseline, which does not depend on R_i and so leaves the gradient unbiased.
// Equals k / (k - 1) * (R_i - mean R). Needs k >= 2.
torch::Tensor rloo_advantages(const torch::Tensor& returns);

// The unbiased (Bessel, divide by k - 1) standard deviation of each group: (P, k) -> (P). torch's
// default std, which TRL's GRPOTrainer and OpenRLHF's group_norm use; DeepSeekMath's text says only
// "the standard deviation of the group".
torch::Tensor group_std(const torch::Tensor& returns);

// GRPO (Shao et al. 2024, DeepSeekMath, process/outcome supervision with one reward per response):
// A_i = (R_i - mean R) / (group_std + eps). Needs k >= 2.
torch::Tensor grpo_advantages(const torch::Tensor& returns, double eps = kGrpoStdEps);

// "rloo" or "grpo".
torch::Tensor group_advantages(const std::string& algorithm, const torch::Tensor& returns);

}  // namespace rlhf
