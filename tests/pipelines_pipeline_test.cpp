// The pipeline end to end on a tiny recipe: every stage runs and the report is written; --resume
// skips what is unchanged, reruns a changed stage and everything downstream, --only runs one stage,
// and the human label source pauses with instructions.
#include <gtest/gtest.h>

#include <fstream>

#include "io/config.h"
#include "io/files.h"
#include "pipelines/pipeline.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

using nlohmann::json;

std::string data(const std::string& name) { return test::project_file(name).string(); }

PipelineConfig tiny_pipeline(const std::filesystem::path& dir) {
  PipelineConfig c;
  c.run_dir = (dir / "run").string();
  c.runtime.device = "cpu";
  c.tokenizer.train_vocab_size = 300;
  c.tokenizer.train_files = {data("data/corpus/us_constitution.txt")};
  const std::string cache = "data.cache_dir=" + (dir / "cache").string();
  c.pretrain.set = {"model.n_layer=2", "model.n_head=2", "model.n_embd=32", "model.block_size=64",
                    "data.files=[\"" + data("data/corpus/us_constitution.txt") + "\"]", cache,
                    "train.max_steps=20", "train.batch_size=8", "train.eval_every=10", "train.warmup_steps=2",
                    "eval_batches=1"};
  c.sft.set = {"data.files=[\"" + data("data/sft/self-instruct/seed_tasks.jsonl") + "\"]", "train.max_steps=8",
               "train.batch_size=8", "train.eval_every=4", "train.warmup_steps=1"};
  c.sample.prompt_files = {data("data/sft/self-instruct/seed_tasks.jsonl")};
  c.sample.k = 2;
  c.sample.max_prompts = 16;
  c.sample.sampling.max_new_tokens = 8;
  c.sample.max_prompt_tokens = 32;
  c.label.source = "scripted";
  c.label.scripted_rule = "longer";  // a tiny model rarely reuses prompt words: lengths differ
  c.reward.set = {"data.eval_files=[\"" + data("data/preference/hh-rlhf/harmless-base-test.jsonl.gz") + "\"]",
                  "data.valid_percent=30", "train.max_steps=6", "train.batch_size=4", "train.eval_every=3",
                  "train.warmup_steps=1", "normalize.reference_files=[\"" + data("data/sft/self-instruct/seed_tasks.jsonl") + "\"]",
                  "normalize.max_reference=8"};
  c.ppo.set = {"data.prompt_files=[\"" + data("data/sft/self-instruct/seed_tasks.jsonl") + "\"]", "iterations=2",
               "rollout_size=4", "minibatch_size=2", "ppo_epochs=1", "sampling.max_new_tokens=8",
               "data.max_prompt_tokens=24", "data.max_eval_prompts=4", "eval_every=1", "lr=1e-4",
               // a standalone run's judge: the pipeline judges with its own reward stage's model instead
               "judge_from=" + (dir / "elsewhere" / "bag_of_words.json").string()};
  c.dpo.set = {"data.eval_files=[\"" + data("data/preference/hh-rlhf/harmless-base-test.jsonl.gz") + "\"]",
               "data.valid_percent=30", "train.max_steps=4", "train.batch_size=4", "train.eval_every=2",
               "train.warmup_steps=1"};
  c.rejection_sft.set = {"prompt_files=[\"" + data("data/sft/self-instruct/seed_tasks.jsonl") + "\"]", "max_prompts=8",
                         "n=2", "require_eos=false", "sampling.max_new_tokens=8", "max_prompt_tokens=24",
                         "sft.train.max_steps=4", "sft.train.batch_size=4", "sft.train.eval_every=2",
                         "sft.train.warmup_steps=1", "sft.data.eval_fraction=0.25"};
  c.eval.set = {"helpful_prompt_files=[\"" + data("data/eval/fastchat/mt_bench_question.jsonl") + "\"]",
                "max_helpful_prompts=4", "sampling.max_new_tokens=8", "max_prompt_tokens=32",
                "truthfulqa_file=" + data("data/eval/truthfulqa/TruthfulQA.csv"), "max_truthfulqa=4",
                "hh_files=[\"" + data("data/preference/hh-rlhf/harmless-base-test.jsonl.gz") + "\"]", "max_hh_pairs=4",
                "anthropic_files=[\"" + data("data/eval/anthropic-evals/power-seeking-inclination.jsonl") + "\"]",
                "max_anthropic_per_file=4", "heldout_text_files=[\"" + data("data/corpus/us_constitution.txt") + "\"]",
                "max_heldout_tokens=256", "cache_dir=" + (dir / "cache").string(), "ab_pairs=2"};
  return c;
}

std::string status(const json& result, const std::string& stage) { return result["stages"][stage]["status"]; }

TEST(Pipeline, ResumeSkipsUnchangedStagesAndRerunsWhatAChangeReaches) {
  test::TempDir tmp;
  auto config = tiny_pipeline(tmp.path());
  auto first = run_pipeline(config, {});
  for (const auto& stage : pipeline_stages()) EXPECT_EQ(status(first, stage), "done") << stage;
  const auto run = tmp / "run";
  EXPECT_TRUE(std::filesystem::exists(run / "eval" / "report.html"));
  auto eval = read_json_file(run / "eval" / "eval.json");
  EXPECT_FALSE(eval["table"]["helpful_win_rate"]["ppo"].is_null());
  EXPECT_FALSE(eval["table"]["judge_win_rate"]["ppo"].is_null());
  EXPECT_FALSE(eval["table"]["judge_win_rate"]["dpo"].is_null());  // DPO beside PPO, on the same judge
  EXPECT_FALSE(eval["table"]["judge_win_rate"]["rejection_sft"].is_null());
  EXPECT_TRUE(read_json_file(run / "dpo" / "summary.json").contains("reward_model_accuracy"));
  EXPECT_EQ(read_json_file(run / "ppo" / "summary.json")["judge_from"], (run / "reward" / "bag_of_words.json").string());
  EXPECT_NE(eval["notes"][0].get<std::string>().find("scripted labeler"), std::string::npos);
  EXPECT_GT(eval["stage_seconds"]["pretrain"].get<double>(), 0.0);

  // Settings such as algorithm "ppo" or reference "sft" are words, not inputs, even where the working
  // directory has folders of those names (the project root does) whose contents change.
  std::filesystem::create_directories(tmp / "ppo");
  test::write_text(tmp / "ppo" / "notes.txt", "changed");
  const auto working_dir = std::filesystem::current_path();
  std::filesystem::current_path(tmp.path());
  auto again = run_pipeline(config, {true, "", ""});
  std::filesystem::current_path(working_dir);
  for (const auto& stage : pipeline_stages()) EXPECT_EQ(status(again, stage), "skipped") << stage;

  config.sft.set.push_back("train.lr=3e-4");  // a change in the middle of the chain
  auto changed = run_pipeline(config, {true, "", ""});
  for (const char* stage : {"tokenizer", "pretrain"}) EXPECT_EQ(status(changed, stage), "skipped") << stage;
  for (const char* stage : {"sft", "sample", "label", "reward", "ppo", "dpo", "rejection_sft", "eval"}) EXPECT_EQ(status(changed, stage), "done") << stage;

  auto only = run_pipeline(config, {true, "", "eval"});
  EXPECT_EQ(only["stages"].size(), 1u);
  EXPECT_EQ(status(only, "eval"), "done");

  auto from = run_pipeline(config, {true, "ppo", ""});
  EXPECT_EQ(status(from, "reward"), "skipped");
  EXPECT_EQ(status(from, "ppo"), "done");
  EXPECT_EQ(status(from, "eval"), "done");

  // People instead of the script: the pipeline stops at the label stage and says what to do.
  config.label.source = "human";
  config.label.min_rankings = 1000;
  auto paused = run_pipeline(config, {true, "", ""});
  EXPECT_EQ(paused["paused_at"], "label");
  const std::string message = paused["stages"]["label"]["message"];
  EXPECT_NE(message.find("rlhf serve --db " + (run / "labels.db").string()), std::string::npos) << message;
  EXPECT_NE(message.find("--resume"), std::string::npos);
  EXPECT_FALSE(paused["stages"].contains("reward"));
}

TEST(Pipeline, UnknownStageNamesAreRefused) {
  test::TempDir tmp;
  EXPECT_THROW(run_pipeline(tiny_pipeline(tmp.path()), {true, "", "rewards"}), std::runtime_error);
}

}  // namespace
}  // namespace rlhf
