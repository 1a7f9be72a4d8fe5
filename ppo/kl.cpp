#include "ppo/kl.h"

#include <algorithm>
#include <stdexcept>

namespace rlhf {

torch::Tensor kl_estimate(const torch::Tensor& logprobs, const torch::Tensor& ref_logprobs, const std::string& estimator) {
  auto log_ratio = logprobs - ref_logprobs;  // log p / p_ref
  if (estimator == "k1") return log_ratio;
  if (estimator == "k3") return torch::exp(-log_ratio) - 1.0 + log_ratio;
  throw std::runtime_error("kl.estimator \"" + estimator + "\": expected k1 or k3");
}

void KlController::update(double observed_kl, int64_t n_responses) {
  if (!config_.adaptive) return;
  const double err = std::clamp(observed_kl / config_.target - 1.0, -0.2, 0.2);
  beta_ *= 1.0 + err * static_cast<double>(n_responses) / config_.horizon;
}

}  // namespace rlhf
