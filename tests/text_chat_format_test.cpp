// The HH-RLHF conversation format shared by every stage, and the stable split of shipped data.
#include <gtest/gtest.h>

#include "text/chat_format.h"
#include "text/data_split.h"
#include "test_util.h"

namespace rlhf {
namespace {

TEST(ChatFormat, PromptAndResponseConcatenateToAnHhTranscript) {
  auto prompt = format_prompt("How do I bake bread?");
  EXPECT_EQ(prompt, "\n\nHuman: How do I bake bread?\n\nAssistant:");
  EXPECT_EQ(prompt + format_response("Start with flour."), "\n\nHuman: How do I bake bread?\n\nAssistant: Start with flour.");
  EXPECT_EQ(format_response(" Already spaced."), " Already spaced.");
}

TEST(ChatFormat, ConversationWithAnOpenAssistantTurn) {
  std::vector<ChatTurn> turns = {{"user", "Hi"}, {"assistant", "Hello!"}, {"human", "Bye"}};
  EXPECT_EQ(format_conversation(turns, true), "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Bye\n\nAssistant:");
  EXPECT_THROW(format_conversation({{"assistant", "x"}}, true), std::runtime_error);
  EXPECT_THROW(format_conversation({{"system", "x"}}, false), std::runtime_error);
}

TEST(ChatFormat, SplitsBeforeTheLastAssistantReply) {
  auto split = split_last_assistant_turn("\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d");
  ASSERT_TRUE(split.has_value());
  EXPECT_EQ(split->prompt, "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant:");
  EXPECT_EQ(split->response, " d");
  EXPECT_FALSE(split_last_assistant_turn("no turns here").has_value());
}

TEST(ChatFormat, FirstHumanMessageIsTheSplitKey) {
  EXPECT_EQ(first_human_message("\n\nHuman: where?\n\nAssistant: here"), " where?");
  EXPECT_EQ(data_split_of("\n\nHuman: where?\n\nAssistant: here"), data_split_of("\n\nHuman: where?\n\nAssistant: elsewhere"));
}


TEST(ChatFormat, TranscriptTurnsInvertFormatConversation) {
  std::vector<ChatTurn> turns = {{"human", "Hi there"}, {"assistant", "Hello."}, {"human", "Tell me\n\na joke"}};
  auto transcript = format_conversation(turns, /*open_assistant_turn=*/true);
  auto parsed = transcript_turns(transcript);
  ASSERT_EQ(parsed.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(parsed[i].role, turns[i].role);
    EXPECT_EQ(parsed[i].text, turns[i].text);
  }
  EXPECT_TRUE(transcript_turns("no tags at all").empty());
}

TEST(DataSplit, TheShippedFolderIsSplitFromAnyWorkingDirectory) {
  const auto shipped = test::project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz");
  EXPECT_TRUE(is_hash_split_file(shipped, kShippedHashSplitFiles));
  EXPECT_TRUE(is_hash_split_file(shipped, {test::project_file("data/preference/hh-rlhf/").string()}));
  EXPECT_TRUE(is_hash_split_file(shipped, {shipped.string()}));
}

TEST(DataSplit, AUsersOwnFileIsNotSplit) {
  test::TempDir tmp;
  test::write_text(tmp / "mine.jsonl", "{}\n");
  EXPECT_FALSE(is_hash_split_file(tmp / "mine.jsonl", kShippedHashSplitFiles));
  EXPECT_FALSE(is_hash_split_file(tmp / "mine.jsonl", {}));
  // A folder named like the shipped one's last part is not the shipped folder.
  std::filesystem::create_directories(tmp / "hh-rlhf");
  test::write_text(tmp / "hh-rlhf" / "mine.jsonl", "{}\n");
  EXPECT_FALSE(is_hash_split_file(tmp / "hh-rlhf" / "mine.jsonl", kShippedHashSplitFiles));
  EXPECT_TRUE(is_hash_split_file(tmp / "hh-rlhf" / "mine.jsonl", {(tmp / "hh-rlhf").string()}));
  // An absolute entry is a prefix of the path, not a pattern found anywhere in it.
  EXPECT_FALSE(is_hash_split_file(test::project_file("data/preference/hh-rlhf/harmless-base-test.jsonl.gz"),
                                  {(tmp / "data" / "preference" / "hh-rlhf").string()}));
}

}  // namespace
}  // namespace rlhf
