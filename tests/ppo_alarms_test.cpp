// The reward-hacking alarms: each fires on the figures that define it, stays quiet otherwise, and
// keeps its memory through resume.
#include <gtest/gtest.h>

#include "ppo/alarms.h"

namespace rlhf {
namespace {

using nlohmann::json;

const json kSft = {{"score", 0.7}, {"response_length", 26.7}, {"judge_score", 0.1}, {"prompts", 48}};

json held_out(double score, double length, double judge, double judge_std = 0.2) {
  return {{"score", score}, {"response_length", length}, {"judge_score", judge}, {"judge_score_std", judge_std},
          {"prompts", 48}};
}

TEST(HackingAlarms, AHealthyRunRaisesNothing) {
  HackingAlarms alarms(kSft, nullptr);
  EXPECT_TRUE(alarms.check(8, held_out(1.0, 24.0, 0.15), 2.0).empty());
  EXPECT_TRUE(alarms.check(16, held_out(1.3, 20.0, 0.2), 1.6).empty());
  EXPECT_TRUE(alarms.raised().empty());
}

TEST(HackingAlarms, ResponsesCollapsingToAQuarterOfTheSftLengthWarn) {
  HackingAlarms alarms(kSft, nullptr);
  auto warnings = alarms.check(24, held_out(2.87, 4.0, 0.1), 2.0);  // the quickstart's " I can."
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("iteration 24: mean response length 4.0 tokens is 0.15x the SFT policy's 26.7"),
            std::string::npos)
      << warnings[0];
  EXPECT_EQ(alarms.check(32, held_out(2.9, 60.0, 0.1), 2.0).size(), 1u);  // over 2x warns too
  EXPECT_TRUE(alarms.check(40, held_out(2.9, 13.4, 0.1), 2.0).empty());   // 0.5x exactly is inside
}

TEST(HackingAlarms, EntropyBelowAQuarterOfItsFirstValueWarns) {
  HackingAlarms alarms(kSft, nullptr);
  EXPECT_TRUE(alarms.check(8, held_out(1.0, 24.0, 0.1), 2.0).empty());
  EXPECT_TRUE(alarms.check(16, held_out(1.0, 24.0, 0.1), 0.6).empty());
  auto warnings = alarms.check(24, held_out(1.0, 24.0, 0.1), 0.4);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("entropy collapsed to 0.400"), std::string::npos) << warnings[0];
}

TEST(HackingAlarms, TheProxyRisingWhileTheJudgeFallsWarns) {
  HackingAlarms alarms(kSft, nullptr);
  EXPECT_TRUE(alarms.check(8, held_out(1.2, 24.0, 0.4), 2.0).empty());  // both rise: the judge's best is 0.4
  // Within two standard errors of the best (0.2 / sqrt(48) = 0.029): noise, not a fall.
  EXPECT_TRUE(alarms.check(16, held_out(1.8, 24.0, 0.35), 2.0).empty());
  auto warnings = alarms.check(24, held_out(2.5, 24.0, 0.2), 2.0);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("proxy score rose to 2.500 (SFT 0.700) while the judge's fell to 0.200, below its best 0.400 "
                             "(iteration 8)"),
            std::string::npos)
      << warnings[0];
  // The judge falling while the proxy is below its SFT value is not this alarm (nothing is being hacked).
  HackingAlarms other(kSft, nullptr);
  other.check(8, held_out(1.0, 24.0, 0.4), 2.0);
  EXPECT_TRUE(other.check(16, held_out(0.5, 24.0, 0.0), 2.0).empty());
}

TEST(HackingAlarms, ResumedAlarmsRememberTheJudgesBestAndTheFirstEntropy) {
  HackingAlarms alarms(kSft, nullptr);
  alarms.check(8, held_out(1.2, 24.0, 0.4), 2.0);
  alarms.check(16, held_out(1.2, 4.0, 0.4), 2.0);
  HackingAlarms resumed(kSft, json::parse(alarms.state().dump()));
  EXPECT_EQ(resumed.raised(), alarms.raised());
  EXPECT_EQ(resumed.check(24, held_out(2.5, 24.0, 0.2), 0.4).size(), 2u);  // judge below 0.4, entropy below 0.5
}

TEST(HackingAlarms, WithoutAJudgeOnlyLengthAndEntropyAreChecked) {
  HackingAlarms alarms({{"score", 0.7}, {"response_length", 26.7}}, nullptr);
  json no_judge = {{"score", 3.0}, {"response_length", 25.0}, {"prompts", 48}};
  EXPECT_TRUE(alarms.check(8, no_judge, 2.0).empty());
}

}  // namespace
}  // namespace rlhf
