// RLOO and GRPO advantages against hand-computed values, and the group shaping of a rollout: the
// sequence return, the KL's place, the broadcast to the response tokens.
#include <gtest/gtest.h>

#include <cmath>

#include "ppo/group_advantages.h"
#include "ppo/rollout.h"

namespace rlhf {
namespace {

torch::Tensor rows(std::vector<std::vector<double>> values) {
  std::vector<torch::Tensor> out;
  for (auto& r : values) out.push_back(torch::tensor(r, torch::kDouble));
  return torch::stack(out);                                                      // (P, k)
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double tol = 1e-12) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual, expected.to(actual.scalar_type()), 0, tol)) << actual << "\nexpected\n" << expected;
}

TEST(PpoGroupAdvantages, RlooSubtractsTheMeanOfTheOtherSamples) {
  // Row 0: sum 12; baselines (12 - R_i) / 3 = 11/3, 10/3, 3, 2.
  // Row 1, k = 4 as well: 5 - (0 + 1 + 2) / 3 = 4 and 0 - (5 + 1 + 2) / 3 = -8/3, ...
  auto a = rloo_advantages(rows({{1, 2, 3, 6}, {5, 0, 1, 2}}));
  expect_close(a, rows({{1 - 11.0 / 3, 2 - 10.0 / 3, 0, 4}, {4, -8.0 / 3, 1 - 7.0 / 3, 2 - 2}}));
  // k = 2: each sample's baseline is the other one.
  expect_close(rloo_advantages(rows({{1, -1}})), rows({{2, -2}}));
}

TEST(PpoGroupAdvantages, RlooIsKOverKMinusOneTimesTheDeviationFromTheGroupMean) {
  auto returns = torch::randn({5, 4}, torch::kDouble);
  auto centred = returns - returns.mean(1, true);
  expect_close(rloo_advantages(returns), centred * 4.0 / 3.0);
  expect_close(rloo_advantages(returns).sum(1), torch::zeros({5}, torch::kDouble));
}

TEST(PpoGroupAdvantages, GrpoDividesByTheUnbiasedGroupStdPlusEpsilon) {
  // Row 0: mean 1, deviations (-1, -1, -1, 3), unbiased variance (1 + 1 + 1 + 9) / 3 = 4, std 2
  // (the biased std, sqrt(12 / 4) = 1.732..., would give other values).
  // Row 1: mean 2, deviations (-1, 1, -1, 1), unbiased variance 4 / 3.
  auto a = grpo_advantages(rows({{0, 0, 0, 4}, {1, 3, 1, 3}}));
  const double s1 = std::sqrt(4.0 / 3.0);
  expect_close(a, rows({{-1 / 2.0001, -1 / 2.0001, -1 / 2.0001, 3 / 2.0001},
                        {-1 / (s1 + 1e-4), 1 / (s1 + 1e-4), -1 / (s1 + 1e-4), 1 / (s1 + 1e-4)}}));
  expect_close(group_std(rows({{0, 0, 0, 4}})), torch::tensor({2.0}, torch::kDouble));
  EXPECT_GT(std::abs(a[0][3].item<double>() - 3 / std::sqrt(3.0)), 0.1);  // not the biased std
  // Without the epsilon the advantages of a group have unbiased std exactly 1.
  expect_close(grpo_advantages(rows({{0, 0, 0, 4}}), 0.0).std(1), torch::ones({1}, torch::kDouble));
}

TEST(PpoGroupAdvantages, AGroupWhoseReturnsAreAllEqualGetsZeroAdvantagesNotNaN) {
  // The trainer passes float returns widened to double, where k equal values sum and divide back
  // exactly: zero, exactly. Any double still gets a finite advantage within rounding of 0.
  const double x = 0.7f;
  auto equal = rows({{x, x, x, x}, {1, 2, 3, 4}, {0.7, 0.7, 0.7, 0.7}});
  for (const auto& a : {rloo_advantages(equal), grpo_advantages(equal)}) {
    EXPECT_TRUE(torch::isfinite(a).all().item<bool>()) << a;
    EXPECT_TRUE(torch::equal(a[0], torch::zeros({4}, torch::kDouble))) << a;
    EXPECT_NE(a[1][0].item<double>(), 0.0);
    EXPECT_LT(a[2].abs().max().item<double>(), 1e-10) << a;
  }
}

TEST(PpoGroupAdvantages, ASingleSamplePerPromptIsRefused) {
  EXPECT_THROW(rloo_advantages(rows({{1}, {2}})), std::invalid_argument);
  EXPECT_THROW(grpo_advantages(rows({{1}, {2}})), std::invalid_argument);
  EXPECT_THROW(group_advantages("ppo", rows({{1, 2}})), std::invalid_argument);
}

TEST(PpoGroupAdvantages, TheSequenceReturnSubtractsBetaTimesTheSummedKlOnlyWhenItIsInTheReward) {
  auto scores = torch::tensor({1.0f, 2.0f});
  auto kl = torch::tensor({0.5f, 0.5f, 0.0f, 0.5f, 0.5f, 0.5f}).view({2, 3});  // masked
  expect_close(sequence_returns(scores, kl, 0.1, true), torch::tensor({0.9f, 1.85f}), 1e-6);
  expect_close(sequence_returns(scores, kl, 0.1, false), scores, 0);
}

// Two prompts, k = 2: rows 0-1 answer the first, rows 2-3 the second. Response lengths 2, 3, 1, 3;
// every real token has log-prob -1 under the policy and -1.5 under the reference: k1 = 0.5 per token.
Rollout two_groups_of_two() {
  Rollout r;
  r.prompts = {"a", "a", "b", "b"};
  r.finished = {true, true, true, true};
  r.mask = torch::tensor({1.0f, 1.0f, 0.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f}).view({4, 3});  // (B, N)
  r.logprobs = -1.0f * r.mask;
  r.ref_logprobs = -1.5f * r.mask;
  return r;
}

RewardShaping no_whitening() {
  RewardShaping s;
  s.beta = 0.1;
  s.whiten_advantages = false;
  return s;
}

TEST(PpoGroupShaping, RlooWithTheKlInTheRewardBroadcastsEachSequenceAdvantageToItsTokens) {
  Rollout r = two_groups_of_two();
  shape_group_rewards(r, torch::tensor({1.0f, 0.0f, 2.0f, 2.0f}), no_whitening(), {"rloo", 2, false});
  // R = score - 0.1 * 0.5 * length = 0.9, -0.15, 1.95, 1.85; RLOO (k = 2): R_i - R_other.
  expect_close(r.sequence_returns, torch::tensor({0.9f, -0.15f, 1.95f, 1.85f}), 1e-6);
  expect_close(r.advantages, torch::tensor({1.05f, 1.05f, 0.0f, -1.05f, -1.05f, -1.05f, 0.1f, 0.0f, 0.0f, -0.1f, -0.1f, -0.1f})
                                 .view({4, 3}), 1e-6);
  // The per-token rewards sum to the return: -beta * kl on each token, the score on the last.
  expect_close(r.rewards.sum(1), r.sequence_returns, 1e-6);
  EXPECT_FALSE(r.values.defined());
  EXPECT_FALSE(r.returns.defined());
}

TEST(PpoGroupShaping, WithTheKlInTheLossTheReturnIsTheScoreAlone) {
  Rollout r = two_groups_of_two();
  shape_group_rewards(r, torch::tensor({1.0f, 0.0f, 2.0f, 2.0f}), no_whitening(), {"rloo", 2, true});
  expect_close(r.sequence_returns, torch::tensor({1.0f, 0.0f, 2.0f, 2.0f}), 0);
  expect_close(r.rewards, torch::tensor({0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 2.0f, 0.0f, 0.0f, 0.0f, 0.0f, 2.0f}).view({4, 3}), 0);
  // The second prompt's two responses scored the same: no signal, exactly.
  expect_close(r.advantages, torch::tensor({1.0f, 1.0f, 0.0f, -1.0f, -1.0f, -1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}).view({4, 3}), 0);
  EXPECT_TRUE(torch::allclose(r.kl, 0.5f * r.mask));  // still measured, for the metrics and the controller
}

TEST(PpoGroupShaping, GrpoNormalisesEachGroupByItsStd) {
  Rollout r = two_groups_of_two();
  shape_group_rewards(r, torch::tensor({1.0f, 0.0f, 2.0f, 2.0f}), no_whitening(), {"grpo", 2, false});
  // Group 1: R = 0.9, -0.15, deviations +-0.525, unbiased std 1.05 / sqrt(2).
  // Group 2: R = 1.95, 1.85, deviations +-0.05, unbiased std 0.1 / sqrt(2).
  const float a1 = 0.525f / (1.05f / std::sqrt(2.0f) + 1e-4f), a2 = 0.05f / (0.1f / std::sqrt(2.0f) + 1e-4f);
  expect_close(r.advantages, torch::tensor({a1, a1, 0.0f, -a1, -a1, -a1, a2, 0.0f, 0.0f, -a2, -a2, -a2}).view({4, 3}), 1e-5);
}

TEST(PpoGroupShaping, EqualFloatReturnsGiveExactlyZeroAdvantages) {
  Rollout r = two_groups_of_two();
  r.logprobs = r.ref_logprobs.clone();  // no KL: R is the score
  for (const char* algorithm : {"rloo", "grpo"}) {
    shape_group_rewards(r, torch::tensor({0.7f, 0.7f, 0.3f, 0.3f}), no_whitening(), {algorithm, 2, false});
    EXPECT_TRUE(torch::equal(r.advantages, torch::zeros({4, 3}))) << algorithm << r.advantages;
  }
}

TEST(PpoGroupShaping, WhiteningActsOnTheRealTokensOfTheWholeRollout) {
  Rollout r = two_groups_of_two();
  RewardShaping s = no_whitening();
  s.whiten_advantages = true;
  shape_group_rewards(r, torch::tensor({1.0f, 0.0f, 2.0f, 2.0f}), s, {"rloo", 2, false});
  auto real = r.advantages.masked_select(r.mask > 0);
  EXPECT_NEAR(real.mean().item<float>(), 0.0f, 1e-6);
  EXPECT_NEAR(real.std().item<float>(), 1.0f, 1e-5);
  EXPECT_TRUE(torch::equal(r.advantages * (1 - r.mask), torch::zeros({4, 3})));
}

TEST(PpoGroupShaping, ARolloutThatIsNotWholeGroupsIsRefused) {
  Rollout r = two_groups_of_two();
  EXPECT_THROW(shape_group_rewards(r, torch::zeros({4}), no_whitening(), {"rloo", 3, false}), std::invalid_argument);
  EXPECT_THROW(shape_group_rewards(r, torch::zeros({4}), no_whitening(), {"rloo", 1, false}), std::invalid_argument);
}

}  // namespace
}  // namespace rlhf
