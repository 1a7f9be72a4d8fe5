// The reward stage's data: rankings, pairs and HH comparisons become groups; the shipped HH file is
// split by hash and a user's own file is used whole; prompts are in the chat template as every other
// stage sees them; bad lines name file, line and field.
#include <gtest/gtest.h>

#include <set>

#include "reward/rankings.h"
#include "reward/reward_stage.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "sft_test_util.h"

namespace rlhf {
namespace {

TEST(RewardData, HhLinesGoToTheirFixedSplitAndNeverBoth) {
  auto path = test::project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz");
  RankingSourceStats train_stats, eval_stats;
  auto train = load_rankings(path, HhSplitUse::kRewardTrain, false, &train_stats);
  auto eval = load_rankings(path, HhSplitUse::kRewardEval, false, &eval_stats);
  EXPECT_GT(train.size(), 800u);
  EXPECT_GT(eval.size(), 400u);
  std::set<std::string> train_prompts;
  for (const auto& g : train) train_prompts.insert(first_human_message(g.prompt));
  for (const auto& g : eval) EXPECT_EQ(train_prompts.count(first_human_message(g.prompt)), 0u);
  for (const auto& g : train) {
    ASSERT_EQ(g.pairs.size(), 1u);
    EXPECT_EQ(g.prompt.substr(g.prompt.size() - 12), "\n\nAssistant:");
  }
  // all_but_eval adds the SFT split's comparisons, still none of the held-out prompts.
  RankingSourceStats wide_stats;
  auto wide = load_rankings(path, HhSplitUse::kAllButRewardEval, false, &wide_stats);
  EXPECT_EQ(wide.size() + eval.size(), static_cast<size_t>(wide_stats.groups + wide_stats.skipped_other_split));
  EXPECT_GT(wide.size(), train.size() + 800u);
  for (const auto& g : wide) EXPECT_NE(data_split_of(g.prompt), DataSplit::kRewardEval);
}

TEST(RewardData, ExportedRankingsAndPairsBecomeGroups) {
  test::TempDir tmp;
  test::write_text(tmp / "rankings.jsonl",
                   R"({"submission_id": 1, "prompt_id": "p1", "kind": "helpful", "is_gold": false, "prompt": "\n\nHuman: q\n\nAssistant:",)"
                   R"( "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}],)"
                   R"( "tiers": [["a"], ["b", "c"]]})" "\n"
                   R"({"submission_id": 2, "prompt_id": "p1", "is_gold": true, "prompt": "x", "responses": [], "tiers": []})" "\n"
                   R"({"submission_id": 3, "prompt_id": "p2", "prompt": "y", "responses": [{"id": "a", "text": "A"}], "tiers": [["a"]]})" "\n");
  RankingSourceStats stats;
  auto groups = load_rankings(tmp / "rankings.jsonl", HhSplitUse::kAll, false, &stats);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].pairs.size(), 2u);
  EXPECT_EQ(groups[0].kind, "helpful");
  EXPECT_EQ(stats.skipped_gold, 1);
  EXPECT_EQ(stats.skipped_no_pairs, 1);

  test::write_text(tmp / "pairs.jsonl",
                   R"({"prompt": "P", "chosen": "A", "rejected": "B", "group_id": "g1", "margin": 1})" "\n"
                   R"({"prompt": "P", "chosen": "A", "rejected": "C", "group_id": "g1", "margin": 2})" "\n"
                   R"({"prompt": "P", "chosen": "B", "rejected": "C", "group_id": "g2", "margin": 1})" "\n");
  groups = load_rankings(tmp / "pairs.jsonl", HhSplitUse::kAll, false, nullptr);
  ASSERT_EQ(groups.size(), 2u);  // two labelers' rankings of one prompt stay separate
  EXPECT_EQ(groups[0].responses.size(), 3u);
  EXPECT_EQ(groups[0].pairs.size(), 2u);
  EXPECT_EQ(groups[0].pairs[1].margin, 2.0);
}

TEST(RewardData, BadLinesNameFileLineAndField) {
  test::TempDir tmp;
  auto error_of = [&](const std::string& text) {
    test::write_text(tmp / "bad.jsonl", text);
    try {
      load_rankings(tmp / "bad.jsonl", HhSplitUse::kAll, false, nullptr);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("{oops\n").find("bad.jsonl:1"), std::string::npos);
  EXPECT_NE(error_of(R"({"prompt": "P", "chosen": 3, "rejected": "B"})").find("field \"chosen\""), std::string::npos);
  EXPECT_NE(error_of(R"({"prompt": "P", "responses": [{"id": "a", "text": "A"}], "tiers": [["z"]]})").find("unknown response id"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"text": "?"})").find("expected a ranking"), std::string::npos);
}

TEST(RewardData, BarePromptsOfPairsAndRankingsAreWrappedInTheChatTemplate) {
  test::TempDir tmp;
  test::write_text(tmp / "pairs.jsonl",
                   R"({"prompt": "How do I bake bread?", "chosen": "Knead it.", "rejected": "No."})" "\n"
                   R"({"prompt": "\n\nHuman: Hi\n\nAssistant:", "chosen": "Hello.", "rejected": "Go."})" "\n"
                   R"({"prompt": "Hi?", "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}], "tiers": [["a"], ["b"]]})" "\n");
  RankingSourceStats stats;
  auto groups = load_rankings(tmp / "pairs.jsonl", HhSplitUse::kAll, false, &stats);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].prompt, format_prompt("How do I bake bread?"));  // as SFT, PPO and `reward score` see it
  EXPECT_EQ(groups[1].prompt, "\n\nHuman: Hi\n\nAssistant:");
  EXPECT_EQ(groups[2].prompt, format_prompt("Hi?"));
  EXPECT_EQ(stats.wrapped_prompts, 2);
}

// `n` HH-format comparisons with distinct first messages, written to `path`.
void write_hh_comparisons(const std::filesystem::path& path, int n, const std::string& tag) {
  std::string lines;
  for (int i = 0; i < n; ++i) {
    const std::string prompt = "\\n\\nHuman: " + tag + " question number " + std::to_string(i) + "\\n\\nAssistant:";
    lines += R"({"chosen": ")" + prompt + R"( A kind and useful answer.", "rejected": ")" + prompt + R"( No."})" "\n";
  }
  test::write_text(path, lines);
}

RewardConfig short_reward_run(const std::filesystem::path& dir) {
  test::write_tiny_checkpoint(dir / "base", 64);
  RewardConfig c;
  c.init_from = (dir / "base").string();
  c.normalize.mode = "none";
  c.train.max_steps = 2;
  c.train.batch_size = 4;
  c.train.eval_every = 2;
  c.data.valid_percent = 20;
  c.out_dir = (dir / "reward").string();
  c.runtime.device = "cpu";
  return c;
}

TEST(RewardData, AUsersOwnHhFileIsUsedWholeForTrainingAndEvaluation) {
  test::TempDir tmp;
  auto config = short_reward_run(tmp.path());
  write_hh_comparisons(tmp / "mine-train.jsonl", 60, "train");
  write_hh_comparisons(tmp / "mine-eval.jsonl", 30, "eval");
  config.data.train_files = {(tmp / "mine-train.jsonl").string()};
  config.data.eval_files = {(tmp / "mine-eval.jsonl").string()};
  auto summary = run_reward(config, false);
  EXPECT_EQ(summary["eval_pairs"].get<int64_t>(), 30);  // the reward-eval split would keep ~20%
  EXPECT_EQ(summary["train_rankings"].get<int64_t>() + summary["valid_rankings"].get<int64_t>(), 60);
}

TEST(RewardData, AnUnsplitFileIsRefusedAsBothTrainingAndHeldOut) {
  test::TempDir tmp;
  auto config = short_reward_run(tmp.path());
  write_hh_comparisons(tmp / "mine.jsonl", 20, "both");
  config.data.train_files = config.data.eval_files = {(tmp / "mine.jsonl").string()};
  try {
    run_reward(config, false);
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("data.eval_files: " + (tmp / "mine.jsonl").string()), std::string::npos) << e.what();
  }
  // Declared a hash-split file, the same file gives disjoint training and held-out splits.
  write_hh_comparisons(tmp / "mine.jsonl", 100, "both");
  config.data.hash_split_files = {(tmp / "mine.jsonl").string()};
  config.data.hh_train_split = "all_but_eval";
  auto summary = run_reward(config, false);
  const int64_t train = summary["train_rankings"].get<int64_t>() + summary["valid_rankings"].get<int64_t>();
  EXPECT_EQ(train + summary["eval_pairs"].get<int64_t>(), 100);
  EXPECT_GT(summary["eval_pairs"].get<int64_t>(), 5);
}

}  // namespace
}  // namespace rlhf
