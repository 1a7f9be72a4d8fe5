// RLOO and GRPO must actually optimise: with a transparent programmatic reward (the fraction of
// response tokens from a target set) the held-out fraction of fresh samples rises above a bar the
// untrained policy does not reach.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "ppo/ppo_stage.h"
#include "ppo_test_util.h"

namespace rlhf {
namespace {

std::vector<nlohmann::json> metrics_of(const std::string& out_dir) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(std::filesystem::path(out_dir) / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

PpoConfig rule_reward_config(const std::filesystem::path& dir, const std::string& algorithm) {
  auto config = test::tiny_ppo_config(dir);
  config.reward_from = "";
  config.rule_reward.words = {"the", "of", "and", "shall", "be", "."};
  config.algorithm = algorithm;
  config.samples_per_prompt = 4;
  config.whiten_advantages = false;
  // One seed's trajectory in fp32, the precision its bar was set on (as ppo_learning_test).
  config.precision = "fp32";
  config.iterations = 24;
  config.rollout_size = 32;  // 8 prompts x 4 samples
  config.minibatch_size = 8;
  config.ppo_epochs = 2;
  config.lr = 3e-3;
  config.sampling.max_new_tokens = 12;
  config.eval_every = 8;
  return config;
}

void print_run(const nlohmann::json& s, const std::string& out_dir, const char* name) {
  for (const auto& line : metrics_of(out_dir))
    std::printf("  iteration %2lld score %.3f kl %.2f group std %.3f\n", static_cast<long long>(line["step"].get<int64_t>()),
                line["score_mean"].get<double>(), line["kl"].get<double>(), line["reward_group_std"].get<double>());
  std::printf("%s rule reward: held-out %.3f -> %.3f, kl_last %.2f\n", name, s["score_first"].get<double>(),
              s["score_last"].get<double>(), s["kl_last"].get<double>());
}

// The untrained tiny policy's held-out fraction of target words is far below this; see the
// printed first score.
constexpr double kBar = 0.15;

TEST(PpoGroupLearning, RlooRaisesTheRuleRewardAboveABarTheUntrainedPolicyMisses) {
  test::TempDir tmp;
  auto config = rule_reward_config(tmp.path(), "rloo");
  // The rule's fractions differ by a few hundredths within a group, and the KL penalty in the
  // reward is summed over the response: a beta near PPO's (0.05) would outweigh them. RLOO's raw
  // advantages are that small too (GRPO divides by the group's std): whitened across the rollout.
  config.kl.init_beta = 0.01;
  config.whiten_advantages = true;
  auto s = run_ppo(config, false);
  print_run(s, config.out_dir, "rloo");
  EXPECT_LT(s["score_first"].get<double>(), kBar);
  EXPECT_GT(s["score_last"].get<double>(), kBar);
}

TEST(PpoGroupLearning, GrpoWithTheKlInTheLossRaisesTheRuleRewardAboveTheSameBar) {
  test::TempDir tmp;
  auto config = rule_reward_config(tmp.path(), "grpo");
  config.kl_in_loss = true;
  config.kl.estimator = "k3";
  config.kl.init_beta = 0.04;  // DeepSeekMath's
  auto s = run_ppo(config, false);
  print_run(s, config.out_dir, "grpo");
  EXPECT_LT(s["score_first"].get<double>(), kBar);
  EXPECT_GT(s["score_last"].get<double>(), kBar);
}

}  // namespace
}  // namespace rlhf
