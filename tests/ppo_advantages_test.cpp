// GAE, masked statistics and whitening against hand-computed values.
#include <gtest/gtest.h>

#include "ppo/advantages.h"

namespace rlhf {
namespace {

torch::Tensor t(std::vector<std::vector<float>> rows) {
  std::vector<torch::Tensor> out;
  for (auto& r : rows) out.push_back(torch::tensor(r));
  return torch::stack(out);
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double tol = 1e-6) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual, expected, 0, tol)) << actual << "\nexpected\n" << expected;
}

TEST(PpoAdvantages, GaeMatchesAHandComputedExample) {
  // Row 0: rewards (0, 0, 1), values (0.5, 0.4, 0.3), gamma 1, lambda 0.95:
  //   A2 = 1 - 0.3 = 0.7; A1 = (0 + 0.3 - 0.4) + 0.95 * 0.7 = 0.565; A0 = (0 + 0.4 - 0.5) + 0.95 * 0.565 = 0.43675
  // Row 1 ends after two tokens (the masked value 9 must not leak): A1 = 2 - 1 = 1, A0 = (1 - 1) + 0.95 = 0.95
  auto rewards = t({{0, 0, 1}, {0, 2, 0}});
  auto values = t({{0.5, 0.4, 0.3}, {1, 1, 9}});
  auto mask = t({{1, 1, 1}, {1, 1, 0}});
  auto gae = compute_gae(rewards, values, mask, 1.0, 0.95);
  expect_close(gae.advantages, t({{0.43675f, 0.565f, 0.7f}, {0.95f, 1.0f, 0.0f}}));
  expect_close(gae.returns, t({{0.93675f, 0.965f, 1.0f}, {1.95f, 2.0f, 0.0f}}));
}

TEST(PpoAdvantages, GaeWithLambdaOneIsTheDiscountedReturnMinusTheValue) {
  // gamma 0.5: return from t=0 is 0.25 * 1, so A0 = 0.25 - 0.5; A1 = 0.5 - 0.4 = 0.1; A2 = 0.7
  auto gae = compute_gae(t({{0, 0, 1}}), t({{0.5, 0.4, 0.3}}), t({{1, 1, 1}}), 0.5, 1.0);
  expect_close(gae.advantages, t({{-0.25f, 0.1f, 0.7f}}));
}

TEST(PpoAdvantages, GaeWithLambdaZeroIsTheOneStepTdError) {
  auto gae = compute_gae(t({{0, 0, 1}}), t({{0.5, 0.4, 0.3}}), t({{1, 1, 1}}), 1.0, 0.0);
  expect_close(gae.advantages, t({{-0.1f, -0.1f, 0.7f}}));
}

TEST(PpoAdvantages, MaskedStatisticsIgnorePadding) {
  auto x = t({{1, 2, 3, 100}});
  auto mask = t({{1, 1, 1, 0}});
  EXPECT_FLOAT_EQ(masked_mean(x, mask).item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(masked_var(x, mask).item<float>(), 1.0f);  // unbiased: (1 + 0 + 1) / 2
}

TEST(PpoAdvantages, WhiteningUsesOnlyRealTokensAndZeroesPadding) {
  auto white = masked_whiten(t({{1, 2, 3, 100}, {2, 50, 50, 50}}), t({{1, 1, 1, 0}, {1, 0, 0, 0}}));
  // real tokens 1, 2, 3, 2: mean 2, unbiased var 2/3
  const float s = std::sqrt(2.0f / 3.0f);
  expect_close(white, t({{-1 / s, 0, 1 / s, 0}, {0, 0, 0, 0}}), 1e-5);
}

TEST(PpoAdvantages, ExplainedVarianceIsOneForPerfectValuesAndZeroForAConstant) {
  auto returns = t({{1, 2, 3, 4}});
  auto mask = t({{1, 1, 1, 1}});
  EXPECT_NEAR(explained_variance(returns, returns, mask), 1.0, 1e-6);
  EXPECT_NEAR(explained_variance(torch::full_like(returns, 2.5), returns, mask), 0.0, 1e-6);
}

}  // namespace
}  // namespace rlhf
