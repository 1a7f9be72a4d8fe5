// Demonstration files: every supported shape, the chat template, the reserved HH split, and bad
// lines answered with the file, the line and the field.
#include <gtest/gtest.h>

#include "io/stable_hash.h"
#include "text/bpe_trainer.h"
#include "text/data_split.h"
#include "text/demonstrations.h"
#include "test_util.h"

namespace rlhf {
namespace {

std::string load_error(const std::string& text) {
  test::TempDir tmp;
  test::write_text(tmp / "d.jsonl", text);
  try {
    load_demonstrations(tmp / "d.jsonl", false);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(SftData, PromptResponseLinesAreWrappedInTheChatTemplate) {
  test::TempDir tmp;
  test::write_text(tmp / "d.jsonl", R"({"prompt": "Name a color.", "response": "Blue."})" "\n\n"
                                    R"({"prompt": "\n\nHuman: Hi\n\nAssistant:", "response": " Hello!"})" "\n");
  auto file = load_demonstrations(tmp / "d.jsonl", false);
  ASSERT_EQ(file.examples.size(), 2u);
  EXPECT_EQ(file.examples[0].prompt, "\n\nHuman: Name a color.\n\nAssistant:");
  EXPECT_EQ(file.examples[0].response, " Blue.");
  EXPECT_EQ(file.examples[1].prompt, "\n\nHuman: Hi\n\nAssistant:");
  EXPECT_EQ(file.examples[1].response, " Hello!");
}

TEST(SftData, ConversationsEndWithTheAssistantReplyAsResponse) {
  test::TempDir tmp;
  test::write_text(tmp / "d.jsonl",
                   R"({"conversation": [{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},)"
                   R"({"role":"user","content":"Bye"},{"role":"assistant","content":"Goodbye"}]})" "\n");
  auto file = load_demonstrations(tmp / "d.jsonl", false);
  ASSERT_EQ(file.examples.size(), 1u);
  EXPECT_EQ(file.examples[0].prompt, "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Bye\n\nAssistant:");
  EXPECT_EQ(file.examples[0].response, " Goodbye");
}

TEST(SftData, SelfInstructSeedTasksGiveOneExamplePerInstance) {
  auto file = load_demonstrations(test::project_file("data/sft/self-instruct/seed_tasks.jsonl"), false);
  EXPECT_GE(file.examples.size(), 175u);
  for (const auto& e : file.examples) {
    EXPECT_EQ(e.prompt.rfind("\n\nHuman: ", 0), 0u);
    EXPECT_EQ(e.response.front(), ' ');
  }
}

TEST(SftData, HhTranscriptsReservedForTheRewardModelAreNeverUsed) {
  auto file = load_demonstrations(test::project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz"), true);
  const int64_t total = static_cast<int64_t>(file.examples.size()) + file.skipped_other_split + file.skipped_empty;
  EXPECT_EQ(total, 2312);
  EXPECT_NEAR(static_cast<double>(file.skipped_other_split) / total, 0.6, 0.05);  // 20% eval + 40% reward train
  for (const auto& e : file.examples) EXPECT_EQ(data_split_of(e.prompt + e.response), DataSplit::kSft);
}

TEST(SftData, AUsersOwnHhFileIsUsedWhole) {
  test::TempDir tmp;
  std::string lines;
  for (int i = 0; i < 50; ++i)
    lines += R"({"chosen": "\n\nHuman: question )" + std::to_string(i) + R"(\n\nAssistant: answer", "rejected": "x"})" "\n";
  test::write_text(tmp / "mine.jsonl", lines);
  auto file = load_demonstrations(tmp / "mine.jsonl", false);
  EXPECT_EQ(file.examples.size(), 50u);
  EXPECT_EQ(file.skipped_other_split, 0);
  EXPECT_LT(load_demonstrations(tmp / "mine.jsonl", true).examples.size(), 40u);  // the split would keep ~40%
}

TEST(SftData, MalformedLinesNameFileLineAndField) {
  auto error = load_error("{\"prompt\": \"a\", \"response\": \"b\"}\n{oops\n");
  EXPECT_NE(error.find("d.jsonl:2: invalid JSON"), std::string::npos) << error;
  error = load_error("{\"prompt\": \"a\", \"response\": 3}\n");
  EXPECT_NE(error.find("d.jsonl:1: field \"response\" must be a string"), std::string::npos) << error;
  error = load_error("{\"text\": \"a\"}\n");
  EXPECT_NE(error.find("d.jsonl:1: expected"), std::string::npos) << error;
  error = load_error("{\"conversation\": [{\"role\":\"robot\",\"content\":\"x\"}]}\n");
  EXPECT_NE(error.find("role \"robot\""), std::string::npos) << error;
}

TEST(SftData, EmptyResponsesAreSkippedAndCounted) {
  test::TempDir tmp;
  test::write_text(tmp / "d.jsonl", "{\"prompt\": \"a\", \"response\": \"  \"}\n{\"prompt\": \"a\", \"response\": \"b\"}\n");
  auto file = load_demonstrations(tmp / "d.jsonl", false);
  EXPECT_EQ(file.examples.size(), 1u);
  EXPECT_EQ(file.skipped_empty, 1);
}

TEST(SftData, LongPromptsAreTruncatedFromTheLeftAndOverlongResponsesSkipped) {
  const auto tokenizer = train_bpe({test::project_file("data/corpus/us_constitution.txt")}, {400, 2});
  std::string long_text;
  for (int i = 0; i < 60; ++i) long_text += "We the People of the United States ";
  std::vector<Demonstration> demos = {{format_prompt(long_text), " Yes."}, {format_prompt("Hi"), " " + long_text},
                                      {format_prompt("Hi"), " Yes."}};
  TokenizeStats stats;
  auto examples = tokenize_demonstrations(demos, tokenizer, 64, &stats);
  EXPECT_EQ(stats.kept, 2);
  EXPECT_EQ(stats.prompt_truncated, 1);
  EXPECT_EQ(stats.skipped_too_long, 1);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].ids.size(), 64u);
  EXPECT_EQ(examples[0].ids.back(), tokenizer.eot_id());
  // The kept end of the prompt is its tail: the tokens right before the response.
  auto tail = tokenizer.encode(format_prompt(long_text));
  EXPECT_TRUE(std::equal(examples[0].ids.begin(), examples[0].ids.begin() + examples[0].prompt_length,
                         tail.end() - examples[0].prompt_length));
}

TEST(SftData, SplitOfAnExampleIsStable) {
  // Pinned so that a change of the hash or the thresholds cannot silently move data between splits.
  EXPECT_EQ(stable_hash("hello"), 0xa430d84680aabd0bULL);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 3000; ++i) counts[static_cast<int>(data_split_of("\n\nHuman: q" + std::to_string(i) + "\n\nAssistant: a"))]++;
  EXPECT_NEAR(counts[0] / 3000.0, 0.2, 0.03);
  EXPECT_NEAR(counts[1] / 3000.0, 0.4, 0.03);
  EXPECT_NEAR(counts[2] / 3000.0, 0.4, 0.03);
}

}  // namespace
}  // namespace rlhf
