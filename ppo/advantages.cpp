#include "ppo/advantages.h"

#include <algorithm>
#include <cmath>

namespace rlhf {

torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& mask) {
  return (x * mask).sum() / mask.sum().clamp_min(1.0);
}

torch::Tensor masked_var(const torch::Tensor& x, const torch::Tensor& mask) {
  auto mean = masked_mean(x, mask);
  auto count = mask.sum();
  auto sum_sq = ((x - mean).square() * mask).sum();
  return sum_sq / (count - 1.0).clamp_min(1.0);  // Bessel's correction, as in PPO implementations
}

torch::Tensor masked_whiten(const torch::Tensor& x, const torch::Tensor& mask) {
  auto mean = masked_mean(x, mask);
  auto var = masked_var(x, mask);
  return (x - mean) * torch::rsqrt(var + 1e-8) * mask;
}

Moments masked_moments(const torch::Tensor& x, const torch::Tensor& mask, Distributed& dist) {
  torch::NoGradGuard no_grad;
  auto xd = x.to(torch::kDouble), md = mask.to(torch::kDouble);
  auto sums = torch::stack({(xd * md).sum(), (xd * xd * md).sum(), md.sum()}).cpu();  // (3)
  const auto total = dist.sum({sums[0].item<double>(), sums[1].item<double>(), sums[2].item<double>()},
                              "summing the advantage moments");
  Moments m;
  m.count = total[2];
  m.mean = total[0] / std::max(1.0, m.count);
  m.var = std::max(0.0, total[1] - m.count * m.mean * m.mean) / std::max(1.0, m.count - 1.0);
  return m;
}

torch::Tensor masked_whiten(const torch::Tensor& x, const torch::Tensor& mask, Distributed& dist) {
  if (!dist.active()) return masked_whiten(x, mask);
  const Moments m = masked_moments(x, mask, dist);
  return (x - m.mean) * (1.0 / std::sqrt(m.var + 1e-8)) * mask;
}

AdvantagesAndReturns compute_gae(const torch::Tensor& rewards, const torch::Tensor& values, const torch::Tensor& mask,
                                 double gamma, double lambda) {
  const int64_t N = rewards.size(1);
  auto r = rewards * mask;                                     // (B, N)
  auto v = values * mask;                                      // (B, N)
  std::vector<torch::Tensor> reversed;
  auto last = torch::zeros({rewards.size(0)}, rewards.options());  // A_{t+1}, (B)
  for (int64_t t = N - 1; t >= 0; --t) {
    auto next_value = t + 1 < N ? v.select(1, t + 1) : torch::zeros_like(last);  // 0 after the end
    auto delta = r.select(1, t) + gamma * next_value - v.select(1, t);
    last = (delta + gamma * lambda * last) * mask.select(1, t);
    reversed.push_back(last);
  }
  std::reverse(reversed.begin(), reversed.end());
  auto advantages = torch::stack(reversed, 1);                 // (B, N)
  return {advantages, (advantages + v) * mask};
}

double explained_variance(const torch::Tensor& values, const torch::Tensor& returns, const torch::Tensor& mask) {
  torch::NoGradGuard no_grad;
  const double var_returns = masked_var(returns, mask).item<double>();
  if (var_returns <= 0) return 0.0;
  return 1.0 - masked_var(returns - values, mask).item<double>() / var_returns;
}

double explained_variance(const torch::Tensor& values, const torch::Tensor& returns, const torch::Tensor& mask,
                          Distributed& dist) {
  if (!dist.active()) return explained_variance(values, returns, mask);
  const double var_returns = masked_moments(returns, mask, dist).var;
  const double var_residual = masked_moments(returns - values, mask, dist).var;
  return var_returns <= 0 ? 0.0 : 1.0 - var_residual / var_returns;
}

}  // namespace rlhf
