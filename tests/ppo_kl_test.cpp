// KL estimators and the adaptive KL controller (Ziegler et al. 2019).
#include <gtest/gtest.h>

#include <cmath>

#include "ppo/kl.h"

namespace rlhf {
namespace {

TEST(PpoKl, K1IsTheLogRatio) {
  auto kl = kl_estimate(torch::tensor({-1.0f, -2.0f}), torch::tensor({-2.0f, -1.0f}), "k1");
  EXPECT_FLOAT_EQ(kl[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(kl[1].item<float>(), -1.0f);
}

TEST(PpoKl, K3IsNonNegativeAndMatchesItsFormula) {
  // k3 = (r - 1) - log r with r = p_ref / p
  auto kl = kl_estimate(torch::tensor({-1.0f, -2.0f, -3.0f}), torch::tensor({-2.0f, -1.0f, -3.0f}), "k3");
  EXPECT_NEAR(kl[0].item<float>(), std::exp(-1.0) - 1.0 + 1.0, 1e-6);
  EXPECT_NEAR(kl[1].item<float>(), std::exp(1.0) - 1.0 - 1.0, 1e-6);
  EXPECT_FLOAT_EQ(kl[2].item<float>(), 0.0f);
}

TEST(PpoKl, UnknownEstimatorIsRejectedByName) {
  try {
    kl_estimate(torch::zeros({1}), torch::zeros({1}), "k2");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("kl.estimator \"k2\""), std::string::npos);
  }
}

TEST(PpoKl, FixedControllerNeverChangesBeta) {
  KlConfig config;
  config.init_beta = 0.1;
  KlController c(config);
  c.update(100.0, 64);
  EXPECT_DOUBLE_EQ(c.beta(), 0.1);
}

TEST(PpoKl, AdaptiveControllerStepsByTheClippedProportionalError) {
  KlConfig config;
  config.init_beta = 0.1;
  config.adaptive = true;
  config.target = 6.0;
  config.horizon = 10000.0;
  KlController c(config);
  c.update(12.0, 100);  // err = clip(1, -0.2, 0.2) = 0.2 -> beta * (1 + 0.2 * 100 / 10000)
  EXPECT_NEAR(c.beta(), 0.1 * 1.002, 1e-12);
  c.update(6.6, 100);   // err = 0.1
  EXPECT_NEAR(c.beta(), 0.1 * 1.002 * 1.001, 1e-12);
  c.update(0.0, 100);   // err = clip(-1) = -0.2
  EXPECT_NEAR(c.beta(), 0.1 * 1.002 * 1.001 * 0.998, 1e-12);
  c.update(6.0, 100);   // on target: unchanged
  EXPECT_NEAR(c.beta(), 0.1 * 1.002 * 1.001 * 0.998, 1e-12);
}

}  // namespace
}  // namespace rlhf
