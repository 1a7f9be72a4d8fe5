// GRPO's KL loss term (k3, per token, masked mean) against hand-computed values and gradients.
#include <gtest/gtest.h>

#include <cmath>

#include "ppo/kl.h"
#include "ppo/losses.h"

namespace rlhf {
namespace {

// Row 0: three real tokens with log p_ref - log p = -1, 1, 0. Row 1: one real token on the
// reference, then padding whose reference log-prob (100 above the policy's) would overflow exp.
struct Tokens {
  torch::Tensor logprobs = torch::tensor({-1.0f, -2.0f, -3.0f, -0.5f, 0.0f, 0.0f}).view({2, 3});
  torch::Tensor ref_logprobs = torch::tensor({-2.0f, -1.0f, -3.0f, -0.5f, 100.0f, 100.0f}).view({2, 3});
  torch::Tensor mask = torch::tensor({1.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f}).view({2, 3});
};

TEST(PpoKlLoss, IsTheMaskedMeanOfK3PerToken) {
  Tokens t;
  // k3 = exp(d) - d - 1, d = ref - logp: exp(-1) + 1 - 1, exp(1) - 1 - 1, 0, 0 over four real tokens.
  const double expected = (std::exp(-1.0) + (std::exp(1.0) - 2.0)) / 4.0;  // 0.27154...
  auto loss = kl_loss(t.logprobs, t.ref_logprobs, t.mask);
  EXPECT_TRUE(std::isfinite(loss.item<float>()));
  EXPECT_NEAR(loss.item<float>(), expected, 1e-6);
  // The same as the k3 estimator of kl.h over the real tokens.
  auto k3 = kl_estimate(t.logprobs, t.ref_logprobs.clamp_max(0), "k3");
  EXPECT_NEAR(loss.item<float>(), (k3 * t.mask).sum().item<float>() / 4.0f, 1e-6);
}

TEST(PpoKlLoss, IsZeroWhenThePolicyIsTheReference) {
  Tokens t;
  EXPECT_EQ(kl_loss(t.logprobs, t.logprobs, t.mask).item<float>(), 0.0f);
}

TEST(PpoKlLoss, ItsGradientIsOneMinusTheProbabilityRatioOverTheTokenCount) {
  // d k3 / d logp = 1 - exp(ref - logp); padded positions get none.
  Tokens t;
  auto logprobs = t.logprobs.clone().requires_grad_(true);
  kl_loss(logprobs, t.ref_logprobs, t.mask).backward();
  auto expected = torch::tensor({float(1 - std::exp(-1.0)) / 4, float(1 - std::exp(1.0)) / 4, 0.0f, 0.0f, 0.0f, 0.0f})
                      .view({2, 3});
  EXPECT_TRUE(torch::allclose(logprobs.grad(), expected, 0, 1e-6)) << logprobs.grad();
}

}  // namespace
}  // namespace rlhf
