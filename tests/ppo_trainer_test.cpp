// The PPO loop's guarantees: frozen models never change, the first minibatch's ratio is exactly 1,
// the checkpoint is a policy checkpoint any consumer opens, the value starts from the reward model,
// resume continues exactly, and bad settings are refused by name.
#include <gtest/gtest.h>

#include "model/model_io.h"
#include "model/state_dict.h"
#include "ppo/ppo_stage.h"
#include "ppo/ppo_trainer.h"
#include "reward/bag_of_words.h"
#include "ppo_test_util.h"

namespace rlhf {
namespace {

safetensors::TensorMap copy_of(const torch::nn::Module& m) {
  safetensors::TensorMap out;
  for (auto& [name, t] : state_dict(m)) out[name] = t.clone();
  return out;
}

bool same(const safetensors::TensorMap& a, const safetensors::TensorMap& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a)
    if (!torch::equal(t, b.at(name))) return false;
  return true;
}

TEST(PpoTrainer, FrozenModelsNeverChangeWhileThePolicyDoes) {
  test::TempDir tmp;
  PpoTrainer trainer(test::tiny_ppo_config(tmp.path()), tmp / "ppo", nullptr);
  const auto reference = copy_of(*trainer.reference());
  const auto reward = copy_of(*trainer.scorer().reward_model());
  const auto policy = copy_of(*trainer.model());
  trainer.run_iteration(0);
  trainer.run_iteration(1);
  EXPECT_TRUE(same(copy_of(*trainer.reference()), reference));
  EXPECT_TRUE(same(copy_of(*trainer.scorer().reward_model()), reward));
  EXPECT_FALSE(same(copy_of(*trainer.model()), policy));
  for (const auto& p : trainer.reference()->parameters()) EXPECT_FALSE(p.requires_grad());
  for (const auto& p : trainer.scorer().reward_model()->parameters()) EXPECT_FALSE(p.requires_grad());
}

TEST(PpoTrainer, TheFirstMinibatchRatioIsExactlyOneAndTheFirstKlIsZero) {
  test::TempDir tmp;
  PpoTrainer trainer(test::tiny_ppo_config(tmp.path()), tmp / "ppo", nullptr);
  auto first = trainer.run_iteration(0).metrics;
  EXPECT_EQ(first["first_ratio"].get<double>(), 1.0);
  EXPECT_EQ(first["kl"].get<double>(), 0.0);  // policy == reference before any update
  auto second = trainer.run_iteration(1).metrics;
  EXPECT_EQ(second["first_ratio"].get<double>(), 1.0);  // old log-probs are the current policy's
  EXPECT_NE(second["kl"].get<double>(), 0.0);
  EXPECT_EQ(second["minibatches"].get<int64_t>(), 4);  // 2 epochs x 8 / 4
}

// Under bf16 autocast (forced, so that every CPU runs it: oneDNN emulates bf16 where it has no
// units) the rollout's log-probs come from the same bf16 forward the first minibatch recomputes.
TEST(PpoTrainer, TheFirstMinibatchRatioIsExactlyOneUnderBf16Autocast) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  config.precision = "bf16";
  PpoTrainer trainer(config, tmp / "ppo", nullptr);
  EXPECT_TRUE(trainer.precision().bf16);
  auto first = trainer.run_iteration(0).metrics;
  EXPECT_EQ(first["first_ratio"].get<double>(), 1.0);
  EXPECT_EQ(first["kl"].get<double>(), 0.0);
  auto second = trainer.run_iteration(1).metrics;
  EXPECT_EQ(second["first_ratio"].get<double>(), 1.0);
  EXPECT_TRUE(std::isfinite(second["policy_loss"].get<double>()));
}

TEST(PpoTrainer, TheValueStartsFromTheRewardModelWithItsNormalisationFolded) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  PpoTrainer trainer(config, tmp / "ppo", nullptr);
  auto rm = load_checkpoint(config.reward_from);
  auto& value = trainer.model()->value;
  ASSERT_FALSE(value->shared());
  EXPECT_TRUE(torch::equal(value->gpt->transformer->wte->weight, rm.weights.at("transformer.wte.weight")));
  EXPECT_TRUE(torch::allclose(value->head->weight, rm.weights.at("reward_head.weight") * 0.5));
  EXPECT_TRUE(torch::allclose(value->head->bias, rm.weights.at("reward_head.bias") * 0.5 - 0.25));
}

TEST(PpoTrainer, ThePpoCheckpointOpensAsAPlainPolicyAndRebuildsTheValue) {
  test::TempDir tmp;
  PpoTrainer trainer(test::tiny_ppo_config(tmp.path()), tmp / "ppo", nullptr);
  trainer.run_iteration(0);
  save_checkpoint(tmp / "saved", trainer.checkpoint());
  auto loaded = load_any_checkpoint(tmp / "saved");
  EXPECT_EQ(loaded.info["kind"], "policy");
  GPT policy = build_gpt(loaded, torch::kCPU, "saved");
  auto ids = torch::randint(0, 300, {2, 10}, torch::kLong);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(policy->forward(ids).logits, trainer.model()->policy->forward(ids).logits));
  auto again = policy_value_from_checkpoint(loaded, torch::kCPU, "saved");
  EXPECT_TRUE(same(copy_of(*again), copy_of(*trainer.model())));
}

TEST(PpoTrainer, ASharedValueHeadUsesThePolicyTrunk) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  config.shared_value = true;
  PpoTrainer trainer(config, tmp / "ppo", nullptr);
  EXPECT_TRUE(trainer.model()->value->shared());
  auto m = trainer.run_iteration(0).metrics;
  EXPECT_TRUE(std::isfinite(m["value_loss"].get<double>()));
  for (const auto& [name, t] : trainer.checkpoint().weights) EXPECT_EQ(name.find("value.transformer"), std::string::npos);
}

TEST(PpoStage, ResumeContinuesExactlyAsAnUninterruptedRun) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  config.out_dir = (tmp / "straight").string();
  auto straight = run_ppo(config, false);
  config.out_dir = (tmp / "resumed").string();
  config.stop_at = 2;
  EXPECT_EQ(run_ppo(config, false)["stopped_at"], 2);
  config.stop_at = 0;
  auto resumed = run_ppo(config, true);
  EXPECT_EQ(straight["score_last"], resumed["score_last"]);
  EXPECT_EQ(straight["kl_last"], resumed["kl_last"]);
  auto a = load_checkpoint(tmp / "straight" / "last"), b = load_checkpoint(tmp / "resumed" / "last");
  EXPECT_TRUE(same(a.weights, b.weights));
  EXPECT_EQ(straight["iterations"], 4);
  EXPECT_TRUE(std::filesystem::exists(tmp / "resumed" / "samples" / "iteration-00004.json"));
  std::ifstream metrics(tmp / "resumed" / "metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) ++lines;
  EXPECT_EQ(lines, 4);  // no duplicated iteration after resume
}

TEST(PpoStage, SummaryReportsScoresKlAndThroughput) {
  test::TempDir tmp;
  auto s = run_ppo(test::tiny_ppo_config(tmp.path()), false);
  for (const char* key : {"score_first", "score_last", "kl_last", "beta_last", "iterations", "samples_per_s"})
    EXPECT_TRUE(s.contains(key)) << key;
  EXPECT_GT(s["samples_per_s"].get<double>(), 0.0);
}

TEST(PpoStage, AJudgeScoresTheHeldOutResponsesBesideTheProxy) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  config.judge_from = config.reward_from;  // the proxy itself as judge: the two figures must agree
  auto s = run_ppo(config, false);
  EXPECT_EQ(s["judge_from"], config.reward_from);
  EXPECT_NEAR(s["judge_first"].get<double>(), s["score_first"].get<double>(), 1e-5);
  EXPECT_NEAR(s["judge_last"].get<double>(), s["score_last"].get<double>(), 1e-5);
  EXPECT_TRUE(s["alarms"].is_array());

  BagOfWords judge;
  judge.vocabulary = {{"the", 0}};
  judge.theta = torch::tensor(std::vector<double>{1.0}, torch::kDouble);
  save_bag_of_words(tmp / "bow.json", judge);
  config.judge_from = (tmp / "bow.json").string();
  config.out_dir = (tmp / "bow").string();
  s = run_ppo(config, false);
  EXPECT_GE(s["judge_last"].get<double>(), 0.0);  // the fraction of responses with "the"
  EXPECT_LE(s["judge_last"].get<double>(), 1.0);

  config.judge_from = (tmp / "missing").string();
  try {
    run_ppo(config, false);
    FAIL() << "a missing judge must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("judge_from: " + config.judge_from), std::string::npos) << e.what();
  }
}

TEST(PpoStage, BadSettingsAreRefusedByName) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  auto expect_error = [&](PpoConfig c, const std::string& field) {
    try {
      run_ppo(c, false);
      FAIL() << field;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  auto c = config;
  c.minibatch_size = 100;
  expect_error(c, "minibatch_size");
  c = config;
  c.kl.estimator = "k9";
  expect_error(c, "kl.estimator");
  c = config;
  c.reward_from = c.policy_from;  // a policy, not a reward model
  expect_error(c, "reward_from");
  c = config;
  c.sampling.max_new_tokens = 64;  // the whole 64-token context
  expect_error(c, "sampling.max_new_tokens");
  EXPECT_THROW(run_ppo(config, true), std::runtime_error);  // nothing to resume
}

TEST(PpoStage, FilteredSamplersAreRefusedBecauseTheUpdateWouldBeOffPolicy) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  auto expect_refused = [](const PpoConfig& c, const std::string& field) {
    try {
      check_ppo_config(c);
      FAIL() << field << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  config.sampling.top_k = 50;
  expect_refused(config, "sampling.top_k");
  config.sampling.top_k = 0;
  config.sampling.top_p = 0.9;
  expect_refused(config, "sampling.top_p");
  config.sampling.top_p = 1.0;
  config.sampling.stop_strings = {"\nUser:"};  // only ends responses: still on-policy
  EXPECT_NO_THROW(check_ppo_config(config));
}

}  // namespace
}  // namespace rlhf
