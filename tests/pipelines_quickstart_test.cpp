// The main job, exactly as the README runs it (configs/quickstart.json, shipped data and the shipped
// base model only), end to end: every stage after pretraining completes; the reward model does better than chance and than "prefer the longer
// answer" on the 440 held-out HH pairs (its 95% interval is printed: above 0.5 in 3 of the 4 runs of
// this config measured so far, so it is not asserted); PPO raises the reward model's score on
// held-out prompts by more than two standard errors; the evaluation writes its table and report.
// The longest test by far (README, "The two commands", gives its time).
#include <gtest/gtest.h>

#include <cmath>

#include "io/config.h"
#include "io/files.h"
#include "pipelines/pipeline.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

TEST(Quickstart, TheMainJobRunsEndToEndAndTheRewardModelAndPolicyImprove) {
  test::TempDir tmp;
  std::filesystem::current_path(RLHF_PROJECT_DIR);  // the configs name data/ relative to the project
  auto config = load_config<PipelineConfig>("configs/quickstart.json");
  config.run_dir = (tmp / "quickstart").string();
  auto result = run_pipeline(config, {});
  // It starts from the shipped base model, as users start from a pretrained GPT.
  EXPECT_EQ(config.base_model, "models/base-dialogue");
  for (const auto& stage : pipeline_stages()) {
    // DPO and rejection-sampling fine-tuning are compared with PPO in configs/compare.json, not in the
    // 15-minute main job.
    const bool not_run = stage == "tokenizer" || stage == "pretrain" || stage == "dpo" || stage == "rejection_sft";
    EXPECT_EQ(result["stages"][stage]["status"], not_run ? "not run" : "done") << stage;
  }

  const auto run = tmp / "quickstart";
  auto reward = read_json_file(run / "reward" / "summary.json");
  std::printf("reward: held-out %.3f [%.3f, %.3f] on %lld pairs, bag-of-words %.3f [%.3f, %.3f], length baseline %.3f\n",
              reward["eval_accuracy"].get<double>(), reward["eval_accuracy_ci95"][0].get<double>(),
              reward["eval_accuracy_ci95"][1].get<double>(), static_cast<long long>(reward["eval_pairs"].get<int64_t>()),
              reward["bag_of_words_accuracy"].get<double>(), reward["bag_of_words_accuracy_ci95"][0].get<double>(),
              reward["bag_of_words_accuracy_ci95"][1].get<double>(), reward["length_baseline_accuracy"].get<double>());
  EXPECT_EQ(reward["eval_pairs"], 440);
  EXPECT_GT(reward["eval_accuracy"].get<double>(), 0.5);
  EXPECT_GT(reward["eval_accuracy"].get<double>(), reward["length_baseline_accuracy"].get<double>());

  auto ppo = read_json_file(run / "ppo" / "summary.json");
  const double first = ppo["score_first"], last = ppo["score_last"];
  const double standard_error = ppo["held_out_first"]["score_std"].get<double>() /
                                std::sqrt(ppo["held_out_first"]["prompts"].get<double>());
  std::printf("ppo: held-out score %.3f -> %.3f (standard error %.3f), kl %.2f\n", first, last, standard_error,
              ppo["kl_last"].get<double>());
  EXPECT_GT(last - first, 2.0 * standard_error);

  auto eval = read_json_file(run / "eval" / "eval.json");
  for (const char* policy : {"base", "sft", "ppo"}) {
    EXPECT_FALSE(eval["table"]["truthfulqa_mc1"][policy].is_null()) << policy;
    EXPECT_FALSE(eval["table"]["heldout_perplexity"][policy].is_null()) << policy;
  }
  EXPECT_FALSE(eval["table"]["helpful_win_rate"]["ppo"].is_null());
  // The reward stage's bag-of-words model judges PPO beside the proxy, during training and in the eval.
  const auto& judge = eval["table"]["judge_win_rate"]["ppo"];
  ASSERT_FALSE(judge.is_null());
  std::printf("judge (bag-of-words): ppo win rate vs sft %.3f [%.3f, %.3f]; during ppo %.3f -> %.3f; %zu alarms\n",
              judge["value"].get<double>(), judge["ci95"][0].get<double>(), judge["ci95"][1].get<double>(),
              ppo["judge_first"].get<double>(), ppo["judge_last"].get<double>(), ppo["alarms"].size());
  for (const auto& alarm : ppo["alarms"]) std::printf("  ppo alarm: %s\n", alarm.get<std::string>().c_str());
  EXPECT_TRUE(std::filesystem::exists(run / "eval" / "report.html"));
}

}  // namespace
}  // namespace rlhf
