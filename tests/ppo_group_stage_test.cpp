// RLOO and GRPO on PPO's machinery: k samples of one prompt in consecutive rows, no value model in
// the trainer or its checkpoint, the first ratio exactly 1, the KL in the reward or in the loss,
// exact resume, and settings refused by name.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "model/model_io.h"
#include "ppo/ppo_stage.h"
#include "ppo/ppo_trainer.h"
#include "ppo_test_util.h"

namespace rlhf {
namespace {

PpoConfig tiny_group_config(const std::filesystem::path& dir, const std::string& algorithm) {
  auto c = test::tiny_ppo_config(dir);
  c.algorithm = algorithm;
  c.samples_per_prompt = 4;  // rollout_size 8: two prompts
  c.whiten_advantages = false;
  return c;
}

std::vector<nlohmann::json> metric_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// Wall-clock figures differ between any two runs; everything else must not.
nlohmann::json without_timings(nlohmann::json m) {
  for (const char* key : {"time_rollout_s", "time_score_s", "time_train_s", "tokens_per_s", "samples_per_s"}) m.erase(key);
  return m;
}

bool same_weights(const safetensors::TensorMap& a, const safetensors::TensorMap& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a)
    if (!b.count(name) || !torch::equal(t, b.at(name))) return false;
  return true;
}

TEST(PpoGroupTrainer, RlooHasNoValueModelAndItsFirstRatioIsExactlyOne) {
  test::TempDir tmp;
  PpoTrainer trainer(tiny_group_config(tmp.path(), "rloo"), tmp / "rloo", nullptr);
  EXPECT_FALSE(trainer.model()->has_value());
  EXPECT_EQ(trainer.model()->parameters().size(), trainer.model()->policy->parameters().size());
  auto first = trainer.run_iteration(0).metrics;
  EXPECT_EQ(first["first_ratio"].get<double>(), 1.0);
  EXPECT_EQ(first["kl"].get<double>(), 0.0);  // policy == reference before any update
  for (const char* key : {"value_loss", "value_clip_frac", "explained_variance", "kl_loss"})
    EXPECT_FALSE(first.contains(key)) << key;
  for (const char* key : {"score_mean", "reward_total", "policy_loss", "clip_frac", "approx_kl", "entropy",
                          "reward_group_std", "reward_zero_std_fraction"})
    EXPECT_TRUE(first.contains(key) && std::isfinite(first[key].get<double>())) << key;
  EXPECT_GE(first["reward_group_std"].get<double>(), 0.0);
  auto second = trainer.run_iteration(1).metrics;
  EXPECT_EQ(second["first_ratio"].get<double>(), 1.0);  // old log-probs are the current policy's
  EXPECT_NE(second["kl"].get<double>(), 0.0);
  EXPECT_EQ(second["minibatches"].get<int64_t>(), 4);  // 2 epochs x 8 / 4
}

TEST(PpoGroupTrainer, EachPromptsKSamplesAreConsecutiveRows) {
  test::TempDir tmp;
  auto config = tiny_group_config(tmp.path(), "rloo");
  config.samples_per_table = config.rollout_size;
  PpoTrainer trainer(config, tmp / "rloo", nullptr);
  for (int64_t iteration = 0; iteration < 2; ++iteration) {
    auto samples = trainer.run_iteration(iteration).samples;
    ASSERT_EQ(samples.size(), 8u);
    std::set<std::string> prompts;
    for (int64_t group = 0; group < 2; ++group) {
      std::set<std::string> responses;
      for (int64_t i = 0; i < 4; ++i) {
        const auto& s = samples[group * 4 + i];
        EXPECT_EQ(s["prompt"], samples[group * 4]["prompt"]) << iteration << " " << group << " " << i;
        responses.insert(s["response"].get<std::string>());
      }
      EXPECT_GT(responses.size(), 1u);  // k independent samples, not one repeated
      prompts.insert(samples[group * 4]["prompt"].get<std::string>());
    }
    EXPECT_EQ(prompts.size(), 2u);  // two different prompts per iteration
  }
}

TEST(PpoGroupTrainer, GrpoWithTheKlInTheLossReportsItAndKeepsTheRewardFreeOfIt) {
  test::TempDir tmp;
  auto config = tiny_group_config(tmp.path(), "grpo");
  config.kl_in_loss = true;
  config.kl.estimator = "k3";
  config.kl.init_beta = 0.04;  // DeepSeekMath's
  PpoTrainer trainer(config, tmp / "grpo", nullptr);
  auto first = trainer.run_iteration(0).metrics;
  EXPECT_EQ(first["first_ratio"].get<double>(), 1.0);
  ASSERT_TRUE(first.contains("kl_loss"));
  // The first minibatch's policy is the reference (k3 0); later ones have moved.
  EXPECT_GT(first["kl_loss"].get<double>(), 0.0);
  auto second = trainer.run_iteration(1).metrics;
  EXPECT_GT(second["kl"].get<double>(), 0.0);
  EXPECT_NEAR(second["reward_total"].get<double>(), second["score_mean"].get<double>(), 1e-6);  // no KL in the reward
}

TEST(PpoGroupTrainer, TheKlInTheRewardLowersTheReturnBelowTheScore) {
  test::TempDir tmp;
  auto config = tiny_group_config(tmp.path(), "grpo");
  config.kl.estimator = "k3";  // >= 0 per token, so the penalty is >= 0 too
  PpoTrainer trainer(config, tmp / "grpo", nullptr);
  trainer.run_iteration(0);
  auto m = trainer.run_iteration(1).metrics;
  EXPECT_GT(m["kl"].get<double>(), 0.0);
  EXPECT_NEAR(m["reward_total"].get<double>(), m["score_mean"].get<double>() - m["beta"].get<double>() * m["kl"].get<double>(),
              1e-5);
}

TEST(PpoGroupStage, TheCheckpointCarriesThePolicyAloneAndOpensAsAPlainPolicy) {
  test::TempDir tmp;
  auto config = tiny_group_config(tmp.path(), "rloo");
  config.iterations = 2;
  run_ppo(config, false);
  auto loaded = load_any_checkpoint(tmp / "ppo" / "last");
  EXPECT_EQ(loaded.info["kind"], "policy");
  EXPECT_EQ(loaded.info["value"]["none"], true);
  for (const auto& [name, t] : loaded.weights) EXPECT_EQ(name.rfind("transformer.", 0), 0u) << name;
  GPT policy = build_gpt(loaded, torch::kCPU, "last");
  auto again = policy_value_from_checkpoint(loaded, torch::kCPU, "last");
  EXPECT_FALSE(again->has_value());
  auto ids = torch::randint(0, 300, {2, 10}, torch::kLong);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(policy->forward(ids).logits, again->policy->forward(ids).logits));
}

void expect_exact_resume(PpoConfig config, const std::filesystem::path& tmp) {
  config.out_dir = (tmp / "straight").string();
  auto straight = run_ppo(config, false);
  config.out_dir = (tmp / "resumed").string();
  config.stop_at = 2;
  EXPECT_EQ(run_ppo(config, false)["stopped_at"], 2);
  config.stop_at = 0;
  auto resumed = run_ppo(config, true);
  EXPECT_EQ(straight["algorithm"], config.algorithm);
  EXPECT_EQ(straight["score_last"], resumed["score_last"]);
  EXPECT_EQ(straight["kl_last"], resumed["kl_last"]);
  EXPECT_TRUE(same_weights(load_checkpoint(tmp / "straight" / "last").weights,
                           load_checkpoint(tmp / "resumed" / "last").weights));
  const auto a = metric_lines(tmp / "straight" / "metrics.jsonl"), b = metric_lines(tmp / "resumed" / "metrics.jsonl");
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);  // no duplicated iteration after resume
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(without_timings(a[i]), without_timings(b[i])) << i;
}

TEST(PpoGroupStage, RlooResumeContinuesExactlyAsAnUninterruptedRun) {
  test::TempDir tmp;
  expect_exact_resume(tiny_group_config(tmp.path(), "rloo"), tmp.path());
}

TEST(PpoGroupStage, GrpoWithTheKlInTheLossResumesExactly) {
  test::TempDir tmp;
  auto config = tiny_group_config(tmp.path(), "grpo");
  config.kl_in_loss = true;
  config.kl.estimator = "k3";
  config.kl.adaptive = true;  // beta moves, so its saved value matters
  config.kl.horizon = 100;
  config.whiten_advantages = true;
  expect_exact_resume(config, tmp.path());
}

TEST(PpoGroupStage, ACheckpointIsResumedOnlyByTheAlgorithmThatWroteIt) {
  test::TempDir tmp;
  auto config = tiny_group_config(tmp.path(), "rloo");
  config.iterations = 4;
  config.stop_at = 2;
  run_ppo(config, false);
  config.stop_at = 0;
  config.algorithm = "ppo";
  config.samples_per_prompt = 1;
  try {
    run_ppo(config, true);
    FAIL() << "a policy-only checkpoint resumed as PPO";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("has no value model, algorithm ppo needs one"), std::string::npos) << e.what();
  }
}

TEST(PpoGroupStage, BadSettingsAreRefusedByName) {
  test::TempDir tmp;
  const auto config = tiny_group_config(tmp.path(), "rloo");
  auto expect_refused = [](const PpoConfig& c, const std::string& text) {
    try {
      check_ppo_config(c);
      FAIL() << text << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  EXPECT_NO_THROW(check_ppo_config(config));
  auto c = config;
  c.algorithm = "reinforce";
  expect_refused(c, "algorithm \"reinforce\"");
  c = config;
  c.samples_per_prompt = 1;
  expect_refused(c, "samples_per_prompt 1: algorithm rloo");
  c.algorithm = "grpo";
  expect_refused(c, "samples_per_prompt 1: algorithm grpo");
  c = config;
  c.samples_per_prompt = 3;  // rollout_size 8
  expect_refused(c, "rollout_size 8 must be a multiple of samples_per_prompt 3");
  c = config;
  c.samples_per_prompt = 0;
  expect_refused(c, "samples_per_prompt");
  c = config;
  c.kl_in_loss = true;  // with the default k1 estimator
  expect_refused(c, "kl.estimator \"k1\": kl_in_loss");
  c.kl.estimator = "k3";
  EXPECT_NO_THROW(check_ppo_config(c));
  c.algorithm = "ppo";
  c.samples_per_prompt = 1;
  expect_refused(c, "kl_in_loss: algorithm ppo");
  c = config;
  c.shared_value = true;
  expect_refused(c, "shared_value: algorithm rloo");
  // PPO itself may sample several responses per prompt; its defaults stay valid.
  c = test::tiny_ppo_config(tmp.path());
  EXPECT_NO_THROW(check_ppo_config(c));
  c.samples_per_prompt = 2;
  EXPECT_NO_THROW(check_ppo_config(c));
}

}  // namespace
}  // namespace rlhf
