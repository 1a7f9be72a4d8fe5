// Best-of-n's arithmetic: the closed-form KL and the pick of each prompt's best candidate.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "eval/best_of_n.h"

namespace rlhf {
namespace {

TEST(BestOfN, KlIsLogNMinusNMinusOneOverN) {
  EXPECT_DOUBLE_EQ(best_of_n_kl(1), 0.0);
  EXPECT_NEAR(best_of_n_kl(4), std::log(4.0) - 0.75, 1e-15);
  EXPECT_NEAR(best_of_n_kl(16), 1.8350887222397811, 1e-12);
  EXPECT_THROW(best_of_n_kl(0), std::runtime_error);
}

TEST(BestOfN, PicksEachPromptsHighestAndTheFirstOnTies) {
  // three prompts, three candidates each
  const std::vector<double> scores = {0.1, 0.9, 0.3, /**/ -1.0, -2.0, -3.0, /**/ 0.5, 0.7, 0.7};
  EXPECT_EQ(best_of_each(scores, 3), (std::vector<int64_t>{1, 0, 1}));
}

TEST(BestOfN, ScoresThatAreNotWholeGroupsAreRefused) {
  EXPECT_THROW(best_of_each({1.0, 2.0, 3.0}, 2), std::runtime_error);
  EXPECT_THROW(best_of_each({1.0}, 0), std::runtime_error);
}

}  // namespace
}  // namespace rlhf
