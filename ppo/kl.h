// The KL penalty that keeps the policy near the reference (SFT) policy: per-token estimators and
// the coefficient controller.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace rlhf {

// Per-token estimate of KL(policy || reference) from the log-probs of the sampled tokens (B, N).
//   k1: logp - ref_logp                       unbiased, can be negative per token (Ziegler et al.)
//   k3: (r - 1) - log r, r = p_ref / p        unbiased, always >= 0, lower variance (Schulman 2020)
torch::Tensor kl_estimate(const torch::Tensor& logprobs, const torch::Tensor& ref_logprobs, const std::string& estimator);

struct KlConfig {
  std::string estimator = "k1";
  double init_beta = 0.05;      // Stiennon et al. 2020 used 0.05; InstructGPT 0.02
  bool adaptive = false;        // Ziegler et al. 2019's proportional controller
  double target = 6.0;          // nats per response (Ziegler et al.: 6)
  double horizon = 10000.0;     // responses (Ziegler et al.: 10000)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(KlConfig, estimator, init_beta, adaptive, target, horizon)

// Fixed beta, or Ziegler et al.'s adaptive rule after each iteration:
//   err = clip(KL / target - 1, -0.2, 0.2);  beta *= 1 + err * n_responses / horizon
class KlController {
 public:
  explicit KlController(const KlConfig& config) : config_(config), beta_(config.init_beta) {}
  double beta() const { return beta_; }
  void set_beta(double beta) { beta_ = beta; }  // resume
  void update(double observed_kl, int64_t n_responses);

 private:
  KlConfig config_;
  double beta_;
};

}  // namespace rlhf
