// The K-wise ranking loss and the pairs it is built from, against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "reward/rankings.h"

namespace rlhf {
namespace {

double neg_log_sigmoid(double x) { return std::log1p(std::exp(-x)); }

RankingGroup group_of(int k, const std::vector<std::vector<int>>& tiers) {
  RankingGroup g;
  for (int i = 0; i < k; ++i) g.responses.push_back(" r" + std::to_string(i));
  g.pairs = pairs_from_tiers(tiers);
  return g;
}

TEST(RewardLoss, TwoResponsesGiveMinusLogSigmoidOfTheDifference) {
  auto g = group_of(2, {{0}, {1}});
  auto loss = ranking_loss({&g}, torch::tensor({1.0, 0.0}, torch::kDouble));
  EXPECT_NEAR(loss.item<double>(), 0.3132616875, 1e-9);
}

TEST(RewardLoss, StrictRankingOfFourAveragesItsSixPairs) {
  auto g = group_of(4, {{0}, {1}, {2}, {3}});
  ASSERT_EQ(g.pairs.size(), 6u);
  auto loss = ranking_loss({&g}, torch::tensor({3.0, 2.0, 1.0, 0.0}, torch::kDouble));
  // differences: 1, 2, 3 (from the best), 1, 2 (from the second), 1 (third vs worst)
  double expected = (3 * neg_log_sigmoid(1) + 2 * neg_log_sigmoid(2) + neg_log_sigmoid(3)) / 6;
  EXPECT_NEAR(loss.item<double>(), expected, 1e-9);
  EXPECT_NEAR(loss.item<double>(), 0.2070380, 1e-6);
}

TEST(RewardLoss, TiedResponsesGiveNoPairBetweenThem) {
  auto g = group_of(4, {{0}, {1, 2}, {3}});
  ASSERT_EQ(g.pairs.size(), 5u);
  for (const auto& p : g.pairs) EXPECT_FALSE((p.winner == 1 && p.loser == 2) || (p.winner == 2 && p.loser == 1));
  auto loss = ranking_loss({&g}, torch::tensor({2.0, 1.0, 1.0, 0.0}, torch::kDouble));
  double expected = (2 * neg_log_sigmoid(1) + neg_log_sigmoid(2) + 2 * neg_log_sigmoid(1)) / 5;
  EXPECT_NEAR(loss.item<double>(), expected, 1e-9);
  EXPECT_TRUE(group_of(3, {{0, 1, 2}}).pairs.empty());  // all tied: nothing to learn
}

TEST(RewardLoss, PairsCarryTheirTierDistanceAsMargin) {
  auto g = group_of(3, {{0}, {1}, {2}});
  EXPECT_EQ(g.pairs[1].winner, 0);
  EXPECT_EQ(g.pairs[1].loser, 2);
  EXPECT_EQ(g.pairs[1].margin, 2.0);
  auto two = group_of(2, {{0}, {1}});
  auto with_margin = ranking_loss({&two}, torch::tensor({1.0, 0.0}, torch::kDouble), /*margin_coef=*/0.5);
  EXPECT_NEAR(with_margin.item<double>(), neg_log_sigmoid(0.5), 1e-9);
}

TEST(RewardLoss, EachGroupWeighsTheSameWhateverItsNumberOfPairs) {
  auto big = group_of(4, {{0}, {1}, {2}, {3}});   // 6 pairs
  auto small = group_of(2, {{0}, {1}});           // 1 pair
  auto rewards = torch::tensor({3.0, 2.0, 1.0, 0.0, -1.0, 1.0}, torch::kDouble);
  auto loss = ranking_loss({&big, &small}, rewards);
  double big_mean = (3 * neg_log_sigmoid(1) + 2 * neg_log_sigmoid(2) + neg_log_sigmoid(3)) / 6;
  EXPECT_NEAR(loss.item<double>(), (big_mean + neg_log_sigmoid(-2)) / 2, 1e-9);
}

TEST(RewardLoss, GradientPushesWinnerUpAndLoserDown) {
  auto g = group_of(2, {{0}, {1}});
  auto rewards = torch::zeros({2}, torch::kDouble).requires_grad_(true);
  ranking_loss({&g}, rewards).backward();
  EXPECT_NEAR(rewards.grad()[0].item<double>(), -0.5, 1e-12);
  EXPECT_NEAR(rewards.grad()[1].item<double>(), 0.5, 1e-12);
}

}  // namespace
}  // namespace rlhf
