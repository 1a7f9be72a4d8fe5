// The reward model: scores independent of padding and batch, normalisation kept through save/load,
// data sources read and bad lines rejected with file, line and field.
#include <gtest/gtest.h>

#include <set>

#include "model/model_io.h"
#include "reward/rankings.h"
#include "reward/reward_model.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "sft_test_util.h"

namespace rlhf {
namespace {

RewardModel tiny_reward_model(const std::string& pooling = "last") {
  GPTConfig config = test::tiny_config();
  config.vocab_size = test::constitution_tokenizer().vocab_size();
  config.block_size = 48;
  torch::manual_seed(5);
  RewardModel model(config, pooling);
  model->eval();
  return model;
}

TEST(RewardModel, ScoreIgnoresPaddingAndBatchCompanions) {
  auto model = tiny_reward_model();
  const auto& tok = test::constitution_tokenizer();
  std::vector<std::pair<std::string, std::string>> items = {
      {format_prompt("Who makes the laws?"), " Congress."},
      {format_prompt("How long is a Senator's term?"), " Six years, and each Senator shall have one vote."},
      {format_prompt("Hi"), " Hello."}};
  auto batched = score_texts(model, tok, items, 3);
  for (size_t i = 0; i < items.size(); ++i) {
    auto alone = score_texts(model, tok, {items[i]}, 1);
    EXPECT_NEAR(batched[i], alone[0], 1e-5) << i;
  }
}

TEST(RewardModel, MeanPooledScoreIgnoresPaddingAndBatchCompanionsAndDependsOnlyOnTheResponse) {
  auto model = tiny_reward_model("mean");
  const auto& tok = test::constitution_tokenizer();
  std::vector<std::pair<std::string, std::string>> items = {
      {format_prompt("Who makes the laws?"), " Congress."},
      {format_prompt("How long is a Senator's term?"), " Six years, and each Senator shall have one vote."}};
  auto batched = score_texts(model, tok, items, 2);
  for (size_t i = 0; i < items.size(); ++i) EXPECT_NEAR(batched[i], score_texts(model, tok, {items[i]}, 1)[0], 1e-5);
  // The response's positions (and EOS) are averaged; the prompt's own positions are not, so a
  // one-token response scores the head of its own hidden state and the EOS's only.
  auto in = reward_input(tok, items[0].first, items[0].second, 48);
  EXPECT_EQ(in.response_start, static_cast<int64_t>(tok.encode(items[0].first).size()));
  EXPECT_THROW(RewardModel(test::tiny_config(), "max"), std::runtime_error);
}

TEST(RewardModel, OverlongInputsKeepTheEndOfThePromptAndEndWithEos) {
  const auto& tok = test::constitution_tokenizer();
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "the United States ";
  auto in = reward_input(tok, format_prompt(long_text), " Yes.", 48);
  EXPECT_TRUE(in.truncated);
  EXPECT_EQ(in.ids.size(), 48u);
  EXPECT_EQ(in.ids.back(), tok.eot_id());
  auto long_response = reward_input(tok, format_prompt("Hi"), " " + long_text, 48);
  EXPECT_EQ(long_response.ids.size(), 48u);
  EXPECT_EQ(long_response.ids.back(), tok.eot_id());
}

TEST(RewardModel, NormalizationIsAppliedAfterSaveAndLoad) {
  test::TempDir tmp;
  auto model = tiny_reward_model();
  const auto& tok = test::constitution_tokenizer();
  std::vector<std::pair<std::string, std::string>> items = {{format_prompt("Hi"), " Hello."}};
  const double raw = score_texts(model, tok, items)[0];
  model->normalization = {2.0, -1.0};
  save_checkpoint(tmp / "rm", reward_checkpoint(model, tok, {}));
  auto loaded = load_checkpoint(tmp / "rm");
  EXPECT_EQ(loaded.info["kind"], "reward");
  auto again = reward_model_from_checkpoint(loaded, torch::kCPU, "rm");
  EXPECT_NEAR(score_texts(again, tok, items)[0], 2.0 * raw - 1.0, 1e-5);
}

TEST(RewardModel, PoolingIsKeptThroughSaveAndLoad) {
  test::TempDir tmp;
  auto model = tiny_reward_model("mean");
  const auto& tok = test::constitution_tokenizer();
  std::vector<std::pair<std::string, std::string>> items = {{format_prompt("Hi"), " Hello there, friend."}};
  save_checkpoint(tmp / "rm", reward_checkpoint(model, tok, {}));
  auto again = reward_model_from_checkpoint(load_checkpoint(tmp / "rm"), torch::kCPU, "rm");
  EXPECT_EQ(again->pooling, "mean");
  EXPECT_NEAR(score_texts(again, tok, items)[0], score_texts(model, tok, items)[0], 1e-6);
}

TEST(RewardModel, BackboneCheckpointGivesAFreshHeadOnTheSameTrunk) {
  test::TempDir tmp;
  test::write_tiny_checkpoint(tmp / "base", 48);
  auto checkpoint = load_checkpoint(tmp / "base");
  auto model = reward_model_from_checkpoint(checkpoint, torch::kCPU, "base");
  EXPECT_TRUE(torch::equal(model->gpt->transformer->wte->weight, checkpoint.weights.at("transformer.wte.weight")));
  EXPECT_EQ(model->normalization.gain, 1.0);
}

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

}  // namespace
}  // namespace rlhf
