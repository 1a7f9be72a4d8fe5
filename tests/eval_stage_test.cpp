// `rlhf eval` on tiny policies: every measurement lands in eval.json with its interval, the reference
// wins half against itself, the report is written, and the blind A/B batch goes into the labeling
// database once, with the human win rate read back after someone ranks it.
#include <gtest/gtest.h>

#include "eval/eval_stage.h"
#include "io/config.h"
#include "labeling/tasks.h"
#include "ppo/prompts.h"
#include "reward/reward_model.h"
#include "text/chat_format.h"
#include "storage/clock.h"
#include "storage/labelers.h"
#include "storage/prompts.h"
#include "storage/schema.h"
#include "ppo_test_util.h"

namespace rlhf {
namespace {

EvalConfig tiny_eval(const std::filesystem::path& dir) {
  test::write_tiny_checkpoint(dir / "base", 64);
  test::write_tiny_reward_checkpoint(dir / "base", dir / "rm");
  EvalConfig c;
  c.policies = {{"base", (dir / "base").string()}, {"sft", (dir / "base").string()}};
  c.reference = "sft";
  c.ab_policy = "base";
  c.reward_from = (dir / "rm").string();
  c.helpful_prompt_files = {test::project_file("data/eval/fastchat/vicuna_bench_question.jsonl").string()};
  c.max_helpful_prompts = 6;
  c.sampling.max_new_tokens = 8;
  c.max_prompt_tokens = 32;
  c.truthfulqa_file = test::project_file("data/eval/truthfulqa/TruthfulQA.csv").string();
  c.max_truthfulqa = 6;
  c.hh_files = {test::project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz").string()};
  c.max_hh_pairs = 8;
  c.anthropic_files = {test::project_file("data/eval/anthropic-evals/corrigible-more-HHH.jsonl").string()};
  c.max_anthropic_per_file = 6;
  c.heldout_text_files = {test::project_file("data/corpus/us_constitution.txt").string()};
  c.max_heldout_tokens = 256;
  c.cache_dir = (dir / "cache").string();
  c.labeling_db = (dir / "labels.db").string();
  c.ab_pairs = 3;
  c.out_dir = (dir / "eval").string();
  c.runtime.device = "cpu";
  return c;
}

// Only the helpful measurement: the others' files cleared.
void helpful_only(EvalConfig& c) {
  c.truthfulqa_file.clear();
  c.hh_files.clear();
  c.anthropic_files.clear();
  c.heldout_text_files.clear();
  c.labeling_db.clear();
}

TEST(EvalStage, TheJudgesWinRateStandsBesideTheProxyWhichIsNeverStarred) {
  test::TempDir tmp;
  auto config = tiny_eval(tmp.path());
  config.judge_from = config.reward_from;  // the proxy as its own judge: the two rows must agree
  helpful_only(config);
  auto eval = run_eval(config);
  const auto& t = eval["table"];
  for (const char* policy : {"base", "sft"})
    EXPECT_EQ(t["judge_win_rate"][policy]["value"], t["helpful_win_rate"][policy]["value"]) << policy;
  EXPECT_EQ(eval["metric_info"]["helpful_win_rate"]["ranked"], false);
  EXPECT_EQ(eval["metric_info"]["reward_mean"]["ranked"], false);
  EXPECT_FALSE(eval["metric_info"]["judge_win_rate"].contains("ranked"));

  config.judge_from = (tmp / "no-such-judge").string();
  EXPECT_THROW(run_eval(config), std::runtime_error);
}

// The policy is conditioned on a prompt's last max_prompt_tokens tokens; the proxy and the judge
// must score its response against that same text, not the longer prompt it never saw.
TEST(EvalStage, ResponsesAreScoredAgainstThePromptThePolicySaw) {
  test::TempDir tmp;
  auto config = tiny_eval(tmp.path());
  config.max_prompt_tokens = 8;  // shorter than every vicuna-bench prompt in the chat template
  config.precision = "fp32";
  helpful_only(config);
  auto eval = run_eval(config);
  auto checkpoint = load_checkpoint(config.reward_from);
  auto rm = reward_model_from_checkpoint(checkpoint, torch::kCPU, config.reward_from);
  const Tokenizer& tokenizer = *checkpoint.tokenizer;
  ASSERT_FALSE(eval["samples"].empty());
  for (const auto& row : eval["samples"]) {
    const std::string prompt = row["prompt"], response = row["responses"]["sft"];
    const std::string seen = policy_prompt(prompt, tokenizer, 8).text;
    ASSERT_NE(seen, prompt);
    const auto expected = score_texts(rm, tokenizer, {{seen, format_response(response)}})[0];
    EXPECT_NEAR(row["scores"]["sft"].get<double>(), expected, 1e-6) << prompt;
  }
}

// The reference's own sample is one of the n candidates, so the proxy scores the pick at least as
// high on every prompt; the column is judged like the policies and its KL is the closed form.
TEST(EvalStage, BestOfNIsAColumnThatTheProxyNeverScoresBelowTheReference) {
  test::TempDir tmp;
  auto config = tiny_eval(tmp.path());
  helpful_only(config);
  config.judge_from = config.reward_from;
  config.best_of_n = 4;
  auto eval = run_eval(config);
  const auto& t = eval["table"];
  EXPECT_EQ(eval["policies"].back(), "sft_best_of_4");
  for (const auto& row : eval["samples"])
    EXPECT_GE(row["scores"]["sft_best_of_4"].get<double>(), row["scores"]["sft"].get<double>());
  EXPECT_GE(t["reward_mean"]["sft_best_of_4"]["value"].get<double>(), t["reward_mean"]["sft"]["value"].get<double>());
  EXPECT_GE(t["helpful_win_rate"]["sft_best_of_4"]["value"].get<double>(), 0.5);
  EXPECT_FALSE(t["judge_win_rate"]["sft_best_of_4"].is_null());
  EXPECT_NEAR(t["kl_from_sft"]["sft_best_of_4"]["value"].get<double>(), std::log(4.0) - 0.75, 1e-12);
  EXPECT_EQ(t["response_length"]["sft_best_of_4"]["n"], 6);

  config.reward_from.clear();
  EXPECT_THROW(run_eval(config), std::runtime_error);  // nothing to pick with
}

TEST(EvalStage, EveryMeasurementIsReportedWithItsSize) {
  test::TempDir tmp;
  auto config = tiny_eval(tmp.path());
  auto eval = run_eval(config);
  const auto& t = eval["table"];
  for (const char* metric : {"helpful_win_rate", "reward_mean", "truthfulqa_mc1", "truthfulqa_mc1_few_shot",
                             "truthfulqa_mc2", "truthfulqa_mc2_few_shot", "hh_chosen_preferred", "anthropic_hhh_rate",
                             "kl_from_sft", "heldout_perplexity", "response_length"})
    for (const char* policy : {"base", "sft"}) EXPECT_FALSE(t[metric][policy].is_null()) << metric << " " << policy;
  // The same weights sampled with the same seed: the reference ties with itself, KL is 0.
  EXPECT_DOUBLE_EQ(t["helpful_win_rate"]["sft"]["value"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(t["kl_from_sft"]["base"]["value"].get<double>(), 0.0);
  EXPECT_EQ(t["truthfulqa_mc1"]["sft"]["n"], 6);
  EXPECT_EQ(t["hh_chosen_preferred"]["sft"]["n"], 8);
  EXPECT_EQ(t["anthropic_hhh_rate"]["sft"]["n"], 6);
  EXPECT_GT(t["heldout_perplexity"]["sft"]["value"].get<double>(), 1.0);
  EXPECT_EQ(eval["reward_model"]["pairs"], 8);
  EXPECT_TRUE(std::filesystem::exists(tmp / "eval" / "report.html"));
  EXPECT_TRUE(std::filesystem::exists(tmp / "eval" / "summary.json"));
}

TEST(EvalStage, TheBlindAbBatchIsImportedOnceAndHumanRankingsGiveAWinRate) {
  test::TempDir tmp;
  auto config = tiny_eval(tmp.path());
  // Another policy (other weights) for the A/B pairs: identical answers are never put to people.
  auto base = load_checkpoint(tmp / "base");
  torch::manual_seed(9);
  GPT other(base.model);
  save_checkpoint(tmp / "other", make_checkpoint(other, base.tokenizer));
  config.policies = {{"other", (tmp / "other").string()}, {"sft", (tmp / "base").string()}};
  config.ab_policy = "other";
  config.truthfulqa_file = "";
  config.hh_files.clear();
  config.anthropic_files.clear();
  config.heldout_text_files.clear();
  auto first = run_eval(config);
  EXPECT_EQ(first["labeling"]["imported"], 3);
  EXPECT_TRUE(first["labeling"]["human_win_rate"].is_null());
  EXPECT_EQ(run_eval(config)["labeling"]["imported"], 0);  // same samples: nothing new

  // Someone ranks one pair, preferring the A/B policy's response ("a").
  auto db = storage::open_database(config.labeling_db);
  storage::insert_labeler(db, "ann", "labeler", std::string(64, 'a'), storage::utc_now());
  auto ann = *storage::find_labeler_by_name(db, "ann");
  auto task = labeling::next_task(db, ann)["assignment"];
  ASSERT_FALSE(task.is_null());
  int64_t a_id = -1, b_id = -1;
  for (const auto& r : storage::responses_of(db, task["prompt"]["id"].get<int64_t>()))
    (r.external_id == "a" ? a_id : b_id) = r.id;
  ASSERT_EQ(labeling::submit(db, ann, task["id"], "ann-key-0001", {{"tiers", {{a_id}, {b_id}}}}).status, 201);
  auto again = run_eval(config);
  EXPECT_DOUBLE_EQ(again["labeling"]["human_win_rate"]["value"].get<double>(), 1.0);
  EXPECT_EQ(again["labeling"]["human_win_rate"]["n"], 1);
}

TEST(EvalStage, AnUnknownReferenceIsRefusedByName) {
  test::TempDir tmp;
  auto config = tiny_eval(tmp.path());
  config.reference = "ppo";
  try {
    run_eval(config);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("reference \"ppo\""), std::string::npos);
  }
}

}  // namespace
}  // namespace rlhf
