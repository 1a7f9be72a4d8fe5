// Pretraining documents: every dialogue shape rendered in the chat template, whole files as one
// document, the reward model's held-out HH split reserved, and bad lines named by file and line.
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "text/bpe_trainer.h"
#include "text/data_split.h"
#include "text/documents.h"
#include "test_util.h"

namespace rlhf {
namespace {

// A first human message in each split (the split is a hash of it).
std::string message_in(DataSplit split) {
  for (int i = 0;; ++i) {
    std::string message = " question " + std::to_string(i);
    if (data_split_of("\n\nHuman:" + message + "\n\nAssistant: a") == split) return message;
  }
}

std::string read_error(const std::string& text) {
  test::TempDir tmp;
  try {
    read_documents(tmp.write("d.jsonl", text), false);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Documents, SchemaGuidedDialogueTurnsBecomeAChatTranscript) {
  test::TempDir tmp;
  auto file = read_documents(tmp.write("sgd.jsonl", R"({"dialogue_id": "1", "turns": [)"
                                                    R"({"speaker": "USER", "utterance": "Find a cafe."},)"
                                                    R"({"speaker": "SYSTEM", "utterance": "Which city?"}]})" "\n"),
                             false);
  ASSERT_EQ(file.documents.size(), 1u);
  EXPECT_TRUE(file.one_per_line);
  EXPECT_EQ(file.documents[0].text, "\n\nHuman: Find a cafe.\n\nAssistant: Which city?");
  EXPECT_FALSE(file.documents[0].reserved);
}

TEST(Documents, TaskmasterUtterancesBecomeAChatTranscript) {
  test::TempDir tmp;
  auto file = read_documents(tmp.write("tm.jsonl", R"({"utterances": [{"speaker": "user", "text": "A mocha."},)"
                                                   R"({"speaker": "assistant", "text": "Anything else?"},)"
                                                   R"({"speaker": "user", "text": "No."}]})" "\n"),
                             false);
  ASSERT_EQ(file.documents.size(), 1u);
  EXPECT_EQ(file.documents[0].text, "\n\nHuman: A mocha.\n\nAssistant: Anything else?\n\nHuman: No.");
}

TEST(Documents, DemonstrationAndPlainTextLinesAreDocumentsToo) {
  test::TempDir tmp;
  auto file = read_documents(tmp.write("d.jsonl", R"({"prompt": "Name a color.", "response": "Blue."})" "\n"
                                                  R"({"text": "Once upon a time."})" "\n"
                                                  R"({"instruction": "Add.", "instances": [{"input": "1+1", "output": "2"}]})"),
                             false);
  ASSERT_EQ(file.documents.size(), 3u);
  EXPECT_EQ(file.documents[0].text, "\n\nHuman: Name a color.\n\nAssistant: Blue.");
  EXPECT_EQ(file.documents[1].text, "Once upon a time.");
  EXPECT_EQ(file.documents[2].text, "\n\nHuman: Add.\n\n1+1\n\nAssistant: 2");
}

TEST(Documents, HeldOutHhTranscriptsAreReservedOnlyInAHashSplitFile) {
  test::TempDir tmp;
  const std::string eval = "\n\nHuman:" + message_in(DataSplit::kRewardEval) + "\n\nAssistant: yes";
  const std::string train = "\n\nHuman:" + message_in(DataSplit::kRewardTrain) + "\n\nAssistant: no";
  nlohmann::json a = {{"chosen", eval}, {"rejected", eval + "!"}}, b = {{"chosen", train}, {"rejected", train + "!"}};
  auto path = tmp.write("hh.jsonl", a.dump() + "\n" + b.dump() + "\n");
  auto split = read_documents(path, true);
  ASSERT_EQ(split.documents.size(), 2u);
  EXPECT_EQ(split.documents[0].text, eval);
  EXPECT_TRUE(split.documents[0].reserved);
  EXPECT_FALSE(split.documents[1].reserved);
  auto whole = read_documents(path, false);
  EXPECT_FALSE(whole.documents[0].reserved);
}

TEST(Documents, ATextFileIsOneDocumentAndMayBeGzipped) {
  test::TempDir tmp;
  auto file = read_documents(tmp.write("book.txt", "Chapter 1\n\nIt was a truth.\n"), false);
  ASSERT_EQ(file.documents.size(), 1u);
  EXPECT_FALSE(file.one_per_line);
  EXPECT_EQ(file.documents[0].text, "Chapter 1\n\nIt was a truth.\n");
  const std::string text = "Plain words, compressed.\n";
  {
    gzFile out = gzopen((tmp / "book.txt.gz").c_str(), "wb");
    ASSERT_NE(out, nullptr);
    gzwrite(out, text.data(), static_cast<unsigned>(text.size()));
    gzclose(out);
  }
  auto gz = read_documents(tmp / "book.txt.gz", false);
  ASSERT_EQ(gz.documents.size(), 1u);
  EXPECT_EQ(gz.documents[0].text, text);
}

TEST(Documents, ShippedDialoguesReadWhole) {
  auto sgd = read_documents(test::project_file("data/dialogue/sgd/dev.jsonl.gz"), false);
  EXPECT_EQ(sgd.documents.size(), 2098u);
  EXPECT_EQ(sgd.documents[0].text.rfind("\n\nHuman: ", 0), 0u);
  auto taskmaster = read_documents(test::project_file("data/dialogue/taskmaster-4/dialogs.jsonl.gz"), false);
  EXPECT_EQ(taskmaster.documents.size(), 3710u);
}

TEST(Documents, BadLinesNameTheFileLineAndField) {
  EXPECT_NE(read_error(R"({"turns": [{"speaker": "USER"}]})").find("d.jsonl:1 turns: field \"utterance\" must be a string"),
            std::string::npos);
  EXPECT_NE(read_error("\n" R"({"turns": [{"speaker": "BOT", "utterance": "x"}]})").find("d.jsonl:2 turns: speaker \"BOT\""),
            std::string::npos);
  EXPECT_NE(read_error(R"({"utterances": "hi"})").find("d.jsonl:1: field \"utterances\" must be an array"),
            std::string::npos);
  EXPECT_NE(read_error(R"({"other": 1})").find("d.jsonl:1: expected"), std::string::npos);
}

TEST(Documents, TheTokenizerTrainerNeverLearnsFromReservedDocuments) {
  test::TempDir tmp;
  // The reserved transcript is the only place "zyzzyva" occurs; were it read, it would be merged.
  std::string eval = "\n\nHuman:" + message_in(DataSplit::kRewardEval) + "\n\nAssistant:";
  for (int i = 0; i < 50; ++i) eval += " zyzzyva";
  const std::string train = "\n\nHuman:" + message_in(DataSplit::kRewardTrain) + "\n\nAssistant: fine thanks";
  nlohmann::json a = {{"chosen", eval}}, b = {{"chosen", train}};
  auto path = tmp.write("hh.jsonl", a.dump() + "\n" + b.dump() + "\n");
  BpeTrainOptions options;
  options.vocab_size = 300;
  options.hash_split_files = {path.string()};
  auto split = train_bpe(std::vector<std::filesystem::path>{path}, options);
  EXPECT_GT(split.encode(" zyzzyva").size(), 2u);
  options.hash_split_files.clear();
  auto whole = train_bpe(std::vector<std::filesystem::path>{path}, options);
  EXPECT_EQ(whole.encode(" zyzzyva").size(), 1u);
}

}  // namespace
}  // namespace rlhf
