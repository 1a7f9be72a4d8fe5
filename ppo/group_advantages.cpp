#include "ppo/group_advantages.h"

#include <stdexcept>

namespace rlhf {

namespace {

void require_groups(const torch::Tensor& returns, const char* what) {
  if (returns.dim() != 2 || returns.size(1) < 2)
    throw std::invalid_argument(std::string(what) + ": returns must be (prompts, k) with k >= 2 samples per prompt");
}

}  // namespace

torch::Tensor sequence_returns(const torch::Tensor& scores, const torch::Tensor& kl, double beta, bool kl_in_reward) {
  if (!kl_in_reward) return scores.clone();                                      // (B)
  return scores - beta * kl.sum(1);                                              // (B)
}

torch::Tensor rloo_advantages(const torch::Tensor& returns) {
  require_groups(returns, "rloo");
  const double k = static_cast<double>(returns.size(1));
  auto others_mean = (returns.sum(1, /*keepdim=*/true) - returns) / (k - 1.0);  // (P, k) baseline without R_i
  return returns - others_mean;                                                  // (P, k)
}

torch::Tensor group_std(const torch::Tensor& returns) {
  return returns.std(1, /*unbiased=*/true);                                      // (P)
}

torch::Tensor grpo_advantages(const torch::Tensor& returns, double eps) {
  require_groups(returns, "grpo");
  auto mean = returns.mean(1, /*keepdim=*/true);                                 // (P, 1)
  auto std = group_std(returns).unsqueeze(1);                                    // (P, 1)
  return (returns - mean) / (std + eps);                                         // (P, k)
}

torch::Tensor group_advantages(const std::string& algorithm, const torch::Tensor& returns) {
  if (algorithm == "rloo") return rloo_advantages(returns);
  if (algorithm == "grpo") return grpo_advantages(returns);
  throw std::invalid_argument("algorithm \"" + algorithm + "\": no group advantages (expected rloo or grpo)");
}

}  // namespace rlhf
