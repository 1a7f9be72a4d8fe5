// The pretraining corpus: conversations are held out whole, the reward model's held-out HH
// transcripts are never trained on, a text file keeps its tail for validation, and the cache key
// follows the split.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "pretrain/corpus.h"
#include "text/data_split.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

std::vector<TokenId> ids_of(const TokenFile& file) {
  std::vector<TokenId> ids;
  for (int64_t i = 0; i < file.size(); ++i) ids.push_back(file.at(i));
  return ids;
}

bool contains(const std::vector<TokenId>& haystack, const std::vector<TokenId>& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

std::string transcript_in(DataSplit split, int start) {
  for (int i = start;; ++i) {
    std::string transcript = "\n\nHuman: question number " + std::to_string(i) + "\n\nAssistant: answer " +
                             std::to_string(i);
    if (data_split_of(transcript) == split) return transcript;
  }
}

const Tokenizer& gpt2() {
  static const Tokenizer tokenizer = Tokenizer::load(test::project_file("data/tokenizer/gpt2"));
  return tokenizer;
}

TEST(PretrainCorpus, ConversationsAreHeldOutWholeAndReservedOnesNeverTrainedOn) {
  test::TempDir tmp;
  std::vector<std::string> kept, reserved;
  std::string hh;
  for (int i = 0; i < 40; ++i) {
    kept.push_back(transcript_in(DataSplit::kRewardTrain, i * 1000));
    reserved.push_back(transcript_in(DataSplit::kRewardEval, i * 1000));
    hh += nlohmann::json{{"chosen", kept.back()}, {"rejected", "x"}}.dump() + "\n";
    hh += nlohmann::json{{"chosen", reserved.back()}, {"rejected", "x"}}.dump() + "\n";
  }
  CorpusConfig config;
  config.files = {tmp.write("hh.jsonl", hh).string()};
  config.hash_split_files = config.files;
  config.val_fraction = 0.25;
  config.cache_dir = (tmp / "cache").string();
  auto corpus = prepare_corpus(config, gpt2(), test::project_file("data/tokenizer/gpt2"));
  const auto train = ids_of(corpus.train), val = ids_of(corpus.val);
  int kept_in_val = 0;
  for (const auto& text : reserved) {
    auto ids = gpt2().encode(text);
    EXPECT_FALSE(contains(train, ids)) << text;
    EXPECT_TRUE(contains(val, ids)) << text;
  }
  for (const auto& text : kept) {
    auto ids = gpt2().encode(text);
    EXPECT_NE(contains(train, ids), contains(val, ids)) << "held out whole or not at all: " << text;
    kept_in_val += contains(val, ids);
  }
  EXPECT_GT(kept_in_val, 0);  // about a quarter of them
  EXPECT_LT(kept_in_val, 25);
}

TEST(PretrainCorpus, ATextFileKeepsItsTailForValidation) {
  test::TempDir tmp;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "Sentence number " + std::to_string(i) + " of the book. ";
  CorpusConfig config;
  config.files = {tmp.write("book.txt", text).string()};
  config.val_fraction = 0.1;
  config.cache_dir = (tmp / "cache").string();
  auto corpus = prepare_corpus(config, gpt2(), test::project_file("data/tokenizer/gpt2"));
  EXPECT_TRUE(contains(ids_of(corpus.val), gpt2().encode(" 199 of the book.")));
  EXPECT_FALSE(contains(ids_of(corpus.train), gpt2().encode(" 199 of the book.")));
  EXPECT_TRUE(contains(ids_of(corpus.train), gpt2().encode("Sentence number 0 of the book.")));
}

TEST(PretrainCorpus, TheCacheIsNotReusedWhenTheSplitChanges) {
  test::TempDir tmp;
  const std::string reserved = transcript_in(DataSplit::kRewardEval, 0);
  CorpusConfig config;
  config.files = {tmp.write("hh.jsonl", nlohmann::json{{"chosen", reserved}}.dump() + "\n" +
                                            nlohmann::json{{"chosen", transcript_in(DataSplit::kSft, 0)}}.dump() + "\n")
                      .string()};
  config.cache_dir = (tmp / "cache").string();
  config.val_fraction = 0.01;
  config.hash_split_files = config.files;
  auto split = prepare_corpus(config, gpt2(), test::project_file("data/tokenizer/gpt2"));
  EXPECT_FALSE(contains(ids_of(split.train), gpt2().encode(reserved)));
  config.hash_split_files.clear();
  auto whole = prepare_corpus(config, gpt2(), test::project_file("data/tokenizer/gpt2"));
  EXPECT_TRUE(contains(ids_of(whole.train), gpt2().encode(reserved)));
}

}  // namespace
}  // namespace rlhf
