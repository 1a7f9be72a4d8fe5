// The PPO loop's guarantees: frozen models never change, the first minibatch's ratio is exactly 1,
// the checkpoint is a policy checkpoint any consumer opens, the value starts from the reward model,
// resume continues exactly, and bad settings are refused by name.
#include <gtest/gtest.h>

#include <set>

#include "model/model_io.h"
#include "model/state_dict.h"
#include "ppo/ppo_stage.h"
#include "ppo/ppo_trainer.h"
#include "reward/bag_of_words.h"
#include "text/chat_format.h"
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

// The policy is conditioned on the prompt's last data.max_prompt_tokens tokens; the reward model
// must score the response against that same text, not the full prompt the policy never saw.
TEST(PpoTrainer, TheRewardModelScoresThePromptTextThePolicyWasConditionedOn) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  config.precision = "fp32";  // the scores are recomputed below, outside the rollout's autocast
  config.data.max_prompt_tokens = 6;
  config.samples_per_table = config.rollout_size;
  PpoTrainer trainer(config, tmp / "ppo", nullptr);
  const Tokenizer tokenizer = *load_checkpoint(config.reward_from).tokenizer;  // the policy's too
  std::set<std::string> seen;  // the texts of the training prompts' last six tokens
  for (const auto& full : trainer.prompts().train) {
    const std::string text = policy_prompt(full, tokenizer, 6).text;
    ASSERT_LT(text.size(), full.size());
    ASSERT_EQ(full.substr(full.size() - text.size()), text);
    seen.insert(text);
  }
  auto samples = trainer.run_iteration(0).samples;
  ASSERT_EQ(samples.size(), 8u);
  for (const auto& s : samples) {
    const auto prompt = s["prompt"].get<std::string>();
    EXPECT_TRUE(seen.count(prompt)) << prompt;
    auto score = score_texts(trainer.scorer().reward_model(), tokenizer,
                             {{prompt, format_response(s["response"].get<std::string>())}});
    EXPECT_NEAR(s["score"].get<double>(), score[0], 1e-5);
  }
}

// score_scale "sft_std": scores and the value head (started in the reward model's units) are
// divided by the spread of the SFT policy's held-out scores; "none" changes nothing.
TEST(PpoTrainer, SftStdScalesTheValueHeadByOneOverTheHeldOutScoreSpread) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  PpoTrainer plain(config, tmp / "plain", nullptr);
  const auto head = plain.model()->value->head->weight.clone();
  EXPECT_EQ(plain.start_score_scale(plain.held_out_score()), 1.0);
  EXPECT_TRUE(torch::equal(plain.model()->value->head->weight, head));

  config.score_scale = "sft_std";
  PpoTrainer trainer(config, tmp / "ppo", nullptr);
  const auto weight = trainer.model()->value->head->weight.clone(), bias = trainer.model()->value->head->bias.clone();
  const auto first = trainer.held_out_score();
  const double spread = first["score_std"].get<double>();
  ASSERT_GT(spread, 0.0);
  const double scale = trainer.start_score_scale(first);
  EXPECT_EQ(scale, 1.0 / spread);
  EXPECT_EQ(trainer.score_scale(), scale);
  EXPECT_TRUE(torch::allclose(trainer.model()->value->head->weight, weight * scale, 1e-6, 0));
  EXPECT_TRUE(torch::allclose(trainer.model()->value->head->bias, bias * scale, 1e-6, 0));
  EXPECT_THROW(trainer.start_score_scale({{"score_std", 0.0}, {"prompts", 6}}), std::runtime_error);
}

TEST(PpoLearningRate, WarmupThenConstantLinearOrCosineTowardsMinLr) {
  PpoConfig c;
  c.lr = 1e-3, c.min_lr = 1e-4, c.iterations = 6, c.warmup_iterations = 2;
  const std::vector<double> constant = {5e-4, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3};
  const std::vector<double> linear = {5e-4, 1e-3, 1e-3, 7.75e-4, 5.5e-4, 3.25e-4};
  // min_lr + (lr - min_lr) * (1 + cos(pi * progress)) / 2, progress (i - 2) / 4
  const std::vector<double> cosine = {5e-4, 1e-3, 1e-3, 8.681980515339464e-4, 5.5e-4, 2.3180194846605e-4};
  for (int64_t i = 0; i < 6; ++i) {
    c.lr_schedule = "constant";
    EXPECT_NEAR(ppo_learning_rate(c, i), constant[i], 1e-15) << i;
    c.lr_schedule = "linear";
    EXPECT_NEAR(ppo_learning_rate(c, i), linear[i], 1e-15) << i;
    c.lr_schedule = "cosine";
    EXPECT_NEAR(ppo_learning_rate(c, i), cosine[i], 1e-15) << i;
  }
}

std::vector<nlohmann::json> metric_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(PpoStage, TheLrScheduleAndTheScoreScaleResumeExactly) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  config.lr_schedule = "cosine";
  config.min_lr = 1e-4;
  config.score_scale = "sft_std";
  config.out_dir = (tmp / "straight").string();
  auto straight = run_ppo(config, false);
  config.out_dir = (tmp / "resumed").string();
  config.stop_at = 2;
  run_ppo(config, false);
  config.stop_at = 0;
  auto resumed = run_ppo(config, true);
  EXPECT_EQ(straight["score_scale"].get<double>(), 1.0 / straight["held_out_first"]["score_std"].get<double>());
  EXPECT_EQ(resumed["score_scale"], straight["score_scale"]);
  EXPECT_EQ(resumed["score_last"], straight["score_last"]);
  EXPECT_TRUE(same(load_checkpoint(tmp / "straight" / "last").weights, load_checkpoint(tmp / "resumed" / "last").weights));
  const auto a = metric_lines(tmp / "straight" / "metrics.jsonl"), b = metric_lines(tmp / "resumed" / "metrics.jsonl");
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a[i]["lr"].get<double>(), ppo_learning_rate(config, i)) << i;
    EXPECT_EQ(b[i]["lr"], a[i]["lr"]) << i;
  }
  EXPECT_LT(a[3]["lr"].get<double>(), config.lr);
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

// TRL's sign: a positive penalty is subtracted. A negative one (this option's old meaning) would
// now reward truncation, so it is refused rather than silently flipped.
TEST(PpoStage, ANegativeMissingEosPenaltyIsRefusedByName) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  config.missing_eos_penalty = 1.0;
  EXPECT_NO_THROW(check_ppo_config(config));
  config.missing_eos_penalty = -1.0;
  try {
    check_ppo_config(config);
    FAIL() << "a negative missing_eos_penalty was accepted";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("missing_eos_penalty"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(PpoStage, UnknownScheduleAndScaleNamesAreRefusedByName) {
  test::TempDir tmp;
  auto config = test::tiny_ppo_config(tmp.path());
  auto c = config;
  c.lr_schedule = "step";
  EXPECT_THROW(check_ppo_config(c), std::runtime_error);
  c = config;
  c.min_lr = 2 * c.lr;
  EXPECT_THROW(check_ppo_config(c), std::runtime_error);
  c = config;
  c.score_scale = "whiten";
  try {
    check_ppo_config(c);
    FAIL() << "score_scale \"whiten\" accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("score_scale"), std::string::npos) << e.what();
  }
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
