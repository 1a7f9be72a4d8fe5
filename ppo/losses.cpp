#include "ppo/losses.h"

#include "ppo/advantages.h"
#include "ppo/kl.h"

namespace rlhf {

PolicyLoss policy_loss(const torch::Tensor& logprobs, const torch::Tensor& old_logprobs, const torch::Tensor& advantages,
                       const torch::Tensor& mask, double clip_range) {
  auto log_ratio = logprobs - old_logprobs;                                          // (B, N)
  auto ratio = torch::exp(log_ratio);
  auto unclipped = -advantages * ratio;
  auto clipped = -advantages * torch::clamp(ratio, 1.0 - clip_range, 1.0 + clip_range);
  PolicyLoss out;
  out.loss = masked_mean(torch::max(unclipped, clipped), mask);
  torch::NoGradGuard no_grad;
  out.clip_frac = masked_mean((clipped > unclipped).to(logprobs.scalar_type()), mask);
  out.approx_kl = 0.5 * masked_mean(log_ratio.square(), mask);
  out.ratio_mean = masked_mean(ratio, mask);
  return out;
}

ValueLoss value_loss(const torch::Tensor& values, const torch::Tensor& old_values, const torch::Tensor& returns,
                     const torch::Tensor& mask, double value_clip) {
  auto unclipped = (values - returns).square();                                     // (B, N)
  ValueLoss out;
  if (value_clip <= 0) {
    out.loss = 0.5 * masked_mean(unclipped, mask);
    out.clip_frac = torch::zeros({}, values.options());
    return out;
  }
  auto values_clipped = old_values + torch::clamp(values - old_values, -value_clip, value_clip);
  auto clipped = (values_clipped - returns).square();
  out.loss = 0.5 * masked_mean(torch::max(unclipped, clipped), mask);
  torch::NoGradGuard no_grad;
  out.clip_frac = masked_mean((clipped > unclipped).to(values.scalar_type()), mask);
  return out;
}

torch::Tensor kl_loss(const torch::Tensor& logprobs, const torch::Tensor& ref_logprobs, const torch::Tensor& mask) {
  return masked_mean(kl_estimate(logprobs * mask, ref_logprobs * mask, "k3"), mask);  // k3 (B, N) >= 0
}

torch::Tensor entropy_from_logprobs(const torch::Tensor& logp) {
  return -(logp.exp() * logp).sum(-1);                                               // (B, N)
}

}  // namespace rlhf
