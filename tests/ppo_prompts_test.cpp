// PPO's prompt sources: every supported line shape, deduplication, the reward-eval split kept out,
// held-out prompts disjoint from training ones, and bad lines named by file and line.
#include <gtest/gtest.h>

#include "ppo/prompts.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "sft_test_util.h"

namespace rlhf {
namespace {

TEST(PpoPrompts, EveryLineShapeBecomesAChatPrompt) {
  test::TempDir tmp;
  test::write_text(tmp / "p.jsonl",
                   "{\"prompt\": \"Name a colour.\"}\n"
                   "{\"prompt\": \"\\n\\nHuman: Hi\\n\\nAssistant:\", \"response\": \" Hello.\"}\n"
                   "{\"conversation\": [{\"role\": \"user\", \"content\": \"A\"}, {\"role\": \"assistant\", \"content\": \"B\"},"
                   " {\"role\": \"user\", \"content\": \"C\"}]}\n"
                   "{\"chosen\": \"\\n\\nHuman: Q1\\n\\nAssistant: good\", \"rejected\": \"\\n\\nHuman: Q1\\n\\nAssistant: bad\"}\n"
                   "{\"instruction\": \"Add.\", \"instances\": [{\"input\": \"1+1\", \"output\": \"2\"}]}\n"
                   "{\"turns\": [\"First turn\", \"Second turn\"]}\n"
                   "\n");
  std::vector<std::string> prompts;
  auto stats = load_prompts(tmp / "p.jsonl", /*exclude_reward_eval=*/false, prompts);
  EXPECT_EQ(stats.prompts, 6);
  EXPECT_EQ(prompts, (std::vector<std::string>{format_prompt("Name a colour."), format_prompt("Hi"),
                                               "\n\nHuman: A\n\nAssistant: B\n\nHuman: C\n\nAssistant:",
                                               format_prompt("Q1"), format_prompt("Add.\n\n1+1"),
                                               format_prompt("First turn")}));
}

TEST(PpoPrompts, DuplicatesAcrossFilesAreKeptOnce) {
  test::TempDir tmp;
  test::write_text(tmp / "a.jsonl", "{\"prompt\": \"Same\"}\n{\"prompt\": \"Same\"}\n");
  test::write_text(tmp / "b.jsonl", "{\"prompt\": \"Same\"}\n{\"prompt\": \"Other\"}\n");
  std::vector<std::string> prompts;
  EXPECT_EQ(load_prompts(tmp / "a.jsonl", false, prompts).duplicates, 1);
  EXPECT_EQ(load_prompts(tmp / "b.jsonl", false, prompts).duplicates, 1);
  EXPECT_EQ(prompts.size(), 2u);
}

TEST(PpoPrompts, TheRewardModelsHeldOutPromptsAreNeverTrainedOn) {
  const auto hh = test::project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz");
  std::vector<std::string> prompts;
  auto stats = load_prompts(hh, /*exclude_reward_eval=*/true, prompts);
  EXPECT_GT(stats.skipped_reward_eval, 400);
  EXPECT_GT(stats.prompts, 1500);
  for (const auto& p : prompts) ASSERT_NE(data_split_of(p), DataSplit::kRewardEval) << p;
}

TEST(PpoPrompts, HeldOutPromptsAreDisjointFromTrainingPrompts) {
  PpoDataConfig data;
  data.prompt_files = {test::project_file("data/sft/self-instruct/seed_tasks.jsonl").string()};
  data.eval_percent = 20;
  data.max_eval_prompts = 1000;
  auto pool = load_prompt_pool(data);
  EXPECT_GT(pool.eval.size(), 10u);
  EXPECT_GT(pool.train.size(), pool.eval.size());
  std::set<std::string> train(pool.train.begin(), pool.train.end());
  for (const auto& p : pool.eval) EXPECT_EQ(train.count(p), 0u);
}

TEST(PpoPrompts, BadLinesNameTheFileLineAndField) {
  test::TempDir tmp;
  test::write_text(tmp / "bad.jsonl", "{\"prompt\": \"ok\"}\n{\"prompt\": 3}\n");
  std::vector<std::string> prompts;
  try {
    load_prompts(tmp / "bad.jsonl", false, prompts);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2: field \"prompt\" must be a string"), std::string::npos) << e.what();
  }
  test::write_text(tmp / "unknown.jsonl", "{\"question\": \"?\"}\n");
  EXPECT_THROW(load_prompts(tmp / "unknown.jsonl", false, prompts), std::runtime_error);
}

TEST(PpoPrompts, APolicyPromptIsTheTextOfTheLastTokensAndAShortPromptStaysWhole) {
  const Tokenizer& tokenizer = test::constitution_tokenizer();
  const std::string prompt = format_prompt("Who may be a Senator of the United States?");
  const auto all = tokenizer.encode(prompt);
  ASSERT_GT(all.size(), 8u);
  auto p = policy_prompt(prompt, tokenizer, 8);
  EXPECT_EQ(p.ids, std::vector<TokenId>(all.end() - 8, all.end()));
  EXPECT_EQ(p.text, tokenizer.decode(p.ids));
  EXPECT_EQ(prompt.substr(prompt.size() - p.text.size()), p.text);
  auto whole = policy_prompt(prompt, tokenizer, static_cast<int64_t>(all.size()));
  EXPECT_EQ(whole.text, prompt);
  EXPECT_EQ(whole.ids, all);
}

// The constitution's tokenizer spells "é" as two byte tokens: a cut between them would leave the
// scored text starting with a stray continuation byte.
TEST(PpoPrompts, APolicyPromptStartsAtAWholeCharacter) {
  const Tokenizer& tokenizer = test::constitution_tokenizer();
  const std::string prompt = format_prompt("Le café est fermé");
  const auto all = tokenizer.encode(prompt);
  size_t cut = 0;  // the first token that starts inside a character
  while (cut < all.size() && (static_cast<unsigned char>(tokenizer.decode_token(all[cut])[0]) & 0xC0) != 0x80) ++cut;
  ASSERT_LT(cut, all.size());
  auto p = policy_prompt(prompt, tokenizer, static_cast<int64_t>(all.size() - cut));
  EXPECT_EQ(p.ids, std::vector<TokenId>(all.begin() + cut + 1, all.end()));
  EXPECT_EQ(p.text, tokenizer.decode(p.ids));
  EXPECT_NE(static_cast<unsigned char>(p.text[0]) & 0xC0, 0x80);
}

}  // namespace
}  // namespace rlhf
