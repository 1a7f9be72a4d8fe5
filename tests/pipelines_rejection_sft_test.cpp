// Rejection-sampling fine-tuning on a tiny policy and reward model: every pick scores at least as high
// as plain sampling's first sample of the same prompt, the policy is fine-tuned on the picks, n = 1
// picks that first sample, and resume reuses the picks.
#include <gtest/gtest.h>

#include "io/files.h"
#include "io/jsonl.h"
#include "model/checkpoint.h"
#include "pipelines/rejection_sft.h"
#include "ppo_test_util.h"

namespace rlhf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class RejectionSftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_tiny_checkpoint(tmp / "sft", 64);
    test::write_tiny_reward_checkpoint(tmp / "sft", tmp / "rm");
    test::write_prompts(tmp / "prompts.jsonl", 12);
  }
  RejectionSftConfig config(const std::string& out, int64_t n) const {
    RejectionSftConfig c;
    c.policy_from = (tmp / "sft").string();
    c.reward_from = (tmp / "rm").string();
    c.prompt_files = {(tmp / "prompts.jsonl").string()};
    c.n = n;
    c.require_eos = false;  // a random tiny model rarely samples EOS
    c.sampling.max_new_tokens = 8;
    c.max_prompt_tokens = 24;
    c.sft.train.max_steps = 4;
    c.sft.train.batch_size = 4;
    c.sft.train.eval_every = 2;
    c.sft.train.warmup_steps = 1;
    c.sft.data.eval_fraction = 0.25;
    c.out_dir = (tmp / out).string();
    c.runtime.device = "cpu";
    return c;
  }
  std::vector<json> picks(const std::string& out) const {
    std::vector<json> result;
    for (const auto& line : read_lines(tmp / out / "picks.jsonl")) result.push_back(json::parse(line));
    return result;
  }
  test::TempDir tmp;
};

TEST_F(RejectionSftTest, PicksNeverScoreBelowOneSampleAndThePolicyIsTunedOnThem) {
  auto summary = run_rejection_sft(config("n4", 4), false);
  const auto kept = picks("n4");
  ASSERT_EQ(static_cast<int64_t>(kept.size()), summary["picks"]["prompts"].get<int64_t>());  // every sample eligible
  ASSERT_GE(kept.size(), 5u);  // of 12, those outside the reward model's held-out split
  bool some_better = false;
  for (const auto& p : kept) {
    EXPECT_GE(p["reward"].get<double>(), p["first_reward"].get<double>());
    some_better |= p["reward"].get<double>() > p["first_reward"].get<double>();
    EXPECT_EQ(p["prompt"].get<std::string>().substr(0, 9), "\n\nHuman: ");
  }
  EXPECT_TRUE(some_better);  // four samples of a random policy are not all scored alike
  EXPECT_GT(summary["picks"]["pick_reward_mean"].get<double>(), summary["picks"]["first_sample_reward_mean"].get<double>());
  EXPECT_EQ(summary["steps"], 4);
  auto checkpoint = load_checkpoint(tmp / "n4" / "best");
  EXPECT_EQ(checkpoint.info["stage"], "sft");
}

TEST_F(RejectionSftTest, OneSampleIsPlainSampling) {
  run_rejection_sft(config("n1", 1), false);
  for (const auto& p : picks("n1")) EXPECT_EQ(p["reward"].get<double>(), p["first_reward"].get<double>());
}

TEST_F(RejectionSftTest, ResumeReusesThePicks) {
  auto c = config("resumed", 2);
  c.sft.train.stop_at = 2;
  run_rejection_sft(c, false);
  const auto written = fs::last_write_time(tmp / "resumed" / "picks.jsonl");
  c.sft.train.stop_at = 0;
  auto summary = run_rejection_sft(c, true);
  EXPECT_EQ(fs::last_write_time(tmp / "resumed" / "picks.jsonl"), written);
  EXPECT_EQ(summary["steps"], 4);
  EXPECT_EQ(summary["picks"]["n"], 2);
}

}  // namespace
}  // namespace rlhf
