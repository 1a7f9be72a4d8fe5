// The DPO family's losses against hand-computed values, their gradient, and the implicit rewards.
#include <gtest/gtest.h>

#include <cmath>

#include "dpo/dpo_loss.h"

namespace rlhf {
namespace {

PairLogprobs one_pair(double policy_chosen, double policy_rejected, double reference_chosen, double reference_rejected) {
  auto t = [](double v) { return torch::tensor({v}, torch::kDouble); };
  return {t(policy_chosen), t(policy_rejected), t(reference_chosen), t(reference_rejected)};
}

// h = (-1 - -1.5) - (-2 - -1.5) = 1 in every test below.
TEST(DpoLoss, SigmoidIsMinusLogSigmoidOfBetaTimesTheLogRatioDifference) {
  auto r = dpo_loss(one_pair(-1.0, -2.0, -1.5, -1.5), "sigmoid", 0.1, 0.0);
  EXPECT_NEAR(r.loss.item<double>(), 0.6443966600735709, 1e-12);  // -log sigmoid(0.1)
  EXPECT_NEAR(r.chosen_rewards[0].item<double>(), 0.05, 1e-12);
  EXPECT_NEAR(r.rejected_rewards[0].item<double>(), -0.05, 1e-12);
}

TEST(DpoLoss, EqualPolicyAndReferenceGiveLogTwo) {
  auto r = dpo_loss(one_pair(-3.0, -7.0, -3.0, -7.0), "sigmoid", 0.5, 0.0);
  EXPECT_NEAR(r.loss.item<double>(), std::log(2.0), 1e-12);
  EXPECT_EQ(r.chosen_rewards[0].item<double>(), 0.0);
}

TEST(DpoLoss, LabelSmoothingMixesInTheFlippedLabel) {
  // 0.9 * -log sigmoid(1) + 0.1 * -log sigmoid(-1)
  auto r = dpo_loss(one_pair(-1.0, -2.0, -1.5, -1.5), "sigmoid", 1.0, 0.1);
  EXPECT_NEAR(r.loss.item<double>(), 0.9 * 0.3132616875182228 + 0.1 * 1.3132616875182228, 1e-12);
}

TEST(DpoLoss, IpoIsTheSquaredDistanceToOneOverTwoBeta) {
  auto r = dpo_loss(one_pair(-1.0, -2.0, -1.5, -1.5), "ipo", 0.1, 0.0);
  EXPECT_NEAR(r.loss.item<double>(), 16.0, 1e-12);  // (1 - 5)^2
}

TEST(DpoLoss, TheLossIsTheMeanOverPairs) {
  auto a = dpo_loss(one_pair(-1.0, -2.0, -1.5, -1.5), "sigmoid", 0.1, 0.0).loss.item<double>();
  auto b = dpo_loss(one_pair(-2.0, -1.0, -1.5, -1.5), "sigmoid", 0.1, 0.0).loss.item<double>();
  PairLogprobs both{torch::tensor({-1.0, -2.0}, torch::kDouble), torch::tensor({-2.0, -1.0}, torch::kDouble),
                    torch::tensor({-1.5, -1.5}, torch::kDouble), torch::tensor({-1.5, -1.5}, torch::kDouble)};
  EXPECT_NEAR(dpo_loss(both, "sigmoid", 0.1, 0.0).loss.item<double>(), (a + b) / 2, 1e-12);
}

// d/d(log pi(chosen)) of -log sigmoid(beta h) is -beta sigmoid(-beta h); the rejected side has the opposite sign.
TEST(DpoLoss, GradientPushesChosenUpAndRejectedDown) {
  auto lp = one_pair(-1.0, -2.0, -1.5, -1.5);
  lp.policy_chosen.requires_grad_(true);
  lp.policy_rejected.requires_grad_(true);
  dpo_loss(lp, "sigmoid", 0.1, 0.0).loss.backward();
  const double expected = -0.1 / (1.0 + std::exp(0.1));
  EXPECT_NEAR(lp.policy_chosen.grad()[0].item<double>(), expected, 1e-12);
  EXPECT_NEAR(lp.policy_rejected.grad()[0].item<double>(), -expected, 1e-12);
}

TEST(DpoLoss, UnknownLossIsRefusedByName) {
  try {
    dpo_loss(one_pair(0, 0, 0, 0), "hinge", 0.1, 0.0);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("loss \"hinge\""), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rlhf
