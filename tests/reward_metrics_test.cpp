// The accuracy interval reported for the reward model (Wilson score interval, 95%).
#include <gtest/gtest.h>

#include "reward/reward_stage.h"

namespace rlhf {
namespace {

TEST(RewardMetrics, WilsonIntervalMatchesHandComputedValues) {
  auto a = wilson_accuracy(55, 100);
  EXPECT_DOUBLE_EQ(a.value, 0.55);
  EXPECT_NEAR(a.low, 0.45245, 1e-4);
  EXPECT_NEAR(a.high, 0.64386, 1e-4);
  auto all = wilson_accuracy(20, 20);  // stays inside [0, 1] even at the edge
  EXPECT_NEAR(all.high, 1.0, 1e-12);
  EXPECT_NEAR(all.low, 0.83887, 1e-4);
  EXPECT_EQ(wilson_accuracy(0, 0).n, 0);
}

TEST(RewardMetrics, IntervalNarrowsWithMorePairs) {
  auto few = wilson_accuracy(60, 100), many = wilson_accuracy(600, 1000);
  EXPECT_GT(few.high - few.low, many.high - many.low);
  EXPECT_GT(many.low, 0.5);   // 60% of 1000 pairs beats chance
  EXPECT_LT(few.low, 0.51);   // 60% of 100 only just clears it
}

}  // namespace
}  // namespace rlhf
