// Masked statistics and generalised advantage estimation (Schulman et al. 2016) over the response
// tokens of a rollout. Every tensor is (B, N): one row per sampled response, one column per new
// token; mask is 1 for the row's real tokens (its EOS included) and 0 after the end.
#pragma once

#include <torch/torch.h>

#include "dist/distributed.h"

namespace rlhf {

torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& mask);  // scalar over real tokens
torch::Tensor masked_var(const torch::Tensor& x, const torch::Tensor& mask);   // unbiased, scalar
// (x - mean) / std over the real tokens; padded positions come back as 0.
torch::Tensor masked_whiten(const torch::Tensor& x, const torch::Tensor& mask);

// The same over the real tokens of every rank's rollout together (data-parallel PPO): the moments
// come from sums all-reduced across ranks. Alone, these are the functions above.
struct Moments {
  double mean = 0.0, var = 0.0, count = 0.0;  // var unbiased
};
Moments masked_moments(const torch::Tensor& x, const torch::Tensor& mask, Distributed& dist);
torch::Tensor masked_whiten(const torch::Tensor& x, const torch::Tensor& mask, Distributed& dist);

struct AdvantagesAndReturns {
  torch::Tensor advantages;  // (B, N) GAE(gamma, lambda), not whitened
  torch::Tensor returns;     // (B, N) advantages + values: the value function's targets
};

// delta_t = r_t + gamma * V_{t+1} - V_t, A_t = delta_t + gamma * lambda * A_{t+1}; the value after
// a row's last real token is 0 (the episode ends there).
AdvantagesAndReturns compute_gae(const torch::Tensor& rewards, const torch::Tensor& values, const torch::Tensor& mask,
                                 double gamma, double lambda);

// 1 - Var(returns - values) / Var(returns) over real tokens: 1 is a perfect value function, 0 no
// better than a constant, negative worse.
double explained_variance(const torch::Tensor& values, const torch::Tensor& returns, const torch::Tensor& mask);
double explained_variance(const torch::Tensor& values, const torch::Tensor& returns, const torch::Tensor& mask,
                          Distributed& dist);

}  // namespace rlhf
