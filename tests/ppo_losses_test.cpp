// PPO's clipped policy and value losses at ratio 1 and beyond the clip range.
#include <gtest/gtest.h>

#include <cmath>

#include "ppo/losses.h"

namespace rlhf {
namespace {

TEST(PpoLosses, AtRatioOneThePolicyLossIsMinusTheMeanAdvantage) {
  auto logp = torch::tensor({{-1.0f, -2.0f, -3.0f}});
  auto adv = torch::tensor({{1.0f, -0.5f, 7.0f}});
  auto mask = torch::tensor({{1.0f, 1.0f, 0.0f}});
  auto pl = policy_loss(logp, logp, adv, mask, 0.2);
  EXPECT_FLOAT_EQ(pl.loss.item<float>(), -0.25f);  // -(1 - 0.5) / 2; the masked 7 is ignored
  EXPECT_FLOAT_EQ(pl.clip_frac.item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(pl.approx_kl.item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(pl.ratio_mean.item<float>(), 1.0f);
}

TEST(PpoLosses, BeyondTheClipRangeTheObjectiveIsPessimistic) {
  const float up = std::log(1.5f), down = std::log(0.5f);
  auto old = torch::zeros({1, 4});
  auto logp = torch::tensor({{up, up, down, down}}).requires_grad_();
  auto adv = torch::tensor({{1.0f, -1.0f, 1.0f, -1.0f}});
  auto mask = torch::ones({1, 4});
  auto pl = policy_loss(logp, old, adv, mask, 0.2);
  // per token: max(-A r, -A clip(r)): A=1,r=1.5 -> -1.2 (clipped); A=-1,r=1.5 -> 1.5;
  //            A=1,r=0.5 -> -0.5; A=-1,r=0.5 -> 0.8 (clipped)
  EXPECT_NEAR(pl.loss.item<float>(), (-1.2f + 1.5f - 0.5f + 0.8f) / 4, 1e-6);
  EXPECT_FLOAT_EQ(pl.clip_frac.item<float>(), 0.5f);
  pl.loss.backward();
  auto grad = logp.grad();
  EXPECT_FLOAT_EQ(grad[0][0].item<float>(), 0.0f);  // clipped tokens get no gradient
  EXPECT_FLOAT_EQ(grad[0][3].item<float>(), 0.0f);
  EXPECT_NEAR(grad[0][1].item<float>(), 1.5f / 4, 1e-6);  // d(-A r)/dlogp = -A r / n
  EXPECT_NEAR(grad[0][2].item<float>(), -0.5f / 4, 1e-6);
}

TEST(PpoLosses, ValueLossTakesTheWorseOfClippedAndUnclipped) {
  auto values = torch::tensor({{2.0f, 1.1f}});
  auto old = torch::tensor({{1.0f, 1.0f}});
  auto returns = torch::tensor({{3.0f, 0.0f}});
  auto mask = torch::ones({1, 2});
  auto vl = value_loss(values, old, returns, mask, 0.2);
  // token 0: clipped value 1.2 -> (1.2 - 3)^2 = 3.24 > (2 - 3)^2 = 1; token 1: within range, 1.21
  EXPECT_NEAR(vl.loss.item<float>(), 0.5f * (3.24f + 1.21f) / 2, 1e-5);
  EXPECT_FLOAT_EQ(vl.clip_frac.item<float>(), 0.5f);
  auto unclipped = value_loss(values, old, returns, mask, 0.0);
  EXPECT_NEAR(unclipped.loss.item<float>(), 0.5f * (1.0f + 1.21f) / 2, 1e-5);
}

TEST(PpoLosses, EntropyOfUniformLogitsIsLogV) {
  auto e = entropy_from_logprobs(torch::log_softmax(torch::zeros({2, 3, 8}), -1));
  EXPECT_TRUE(torch::allclose(e, torch::full({2, 3}, std::log(8.0f))));
}

}  // namespace
}  // namespace rlhf
