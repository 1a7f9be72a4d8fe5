// The reward model: scores independent of padding and batch, normalisation kept through save/load,
// a fresh head on a backbone.
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

}  // namespace
}  // namespace rlhf
