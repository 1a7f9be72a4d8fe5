// Byte-level BPE trainer: exact vocabulary size, the merges hand counting predicts, determinism,
// round trips, and files that Tokenizer::load reads back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "text/bpe_trainer.h"
#include "text/tokenizer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using rlhf::BpeTrainOptions;
using rlhf::TokenId;
using rlhf::Tokenizer;

namespace {

const fs::path kProjectDir = RLHF_PROJECT_DIR;
const fs::path kConstitution = kProjectDir / "data" / "corpus" / "us_constitution.txt";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The merge lines of a saved vocab.bpe (without the "#version" header).
std::vector<std::string> merge_lines(const fs::path& dir) {
  std::istringstream in(read_file(dir / "vocab.bpe"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("#version", 0) != 0) lines.push_back(line);
  return lines;
}

// The slow, obviously correct trainer: recount every pair before each merge. Same tie-break
// (highest count, then smallest ids). Returns merges as vocab.bpe lines.
std::vector<std::string> naive_merges(const std::string& text, int64_t vocab_size) {
  std::map<std::string, int64_t> counts;
  for (auto word : rlhf::detail::split_words(text)) ++counts[std::string(word)];
  std::vector<std::pair<std::vector<int>, int64_t>> words;
  for (const auto& [word, count] : counts) words.push_back({std::vector<int>(word.begin(), word.end()), count});
  for (auto& [symbols, count] : words)
    for (int& s : symbols) s = static_cast<unsigned char>(s);
  std::vector<std::string> printable;  // id -> vocab.bpe spelling
  for (int b = 0; b < 256; ++b) printable.push_back(rlhf::detail::byte_to_unicode(static_cast<uint8_t>(b)));
  std::vector<std::string> merges;
  while (static_cast<int64_t>(printable.size()) < vocab_size - 1) {
    std::map<std::pair<int, int>, int64_t> pairs;
    for (const auto& [symbols, count] : words)
      for (size_t i = 0; i + 1 < symbols.size(); ++i) pairs[{symbols[i], symbols[i + 1]}] += count;
    auto best = pairs.begin();
    for (auto it = pairs.begin(); it != pairs.end(); ++it)
      if (it->second > best->second) best = it;  // std::map order: first max = smallest ids
    if (best == pairs.end() || best->second < 2) break;
    auto [a, b] = best->first;
    const int z = static_cast<int>(printable.size());
    printable.push_back(printable[a] + printable[b]);
    merges.push_back(printable[a] + " " + printable[b]);
    for (auto& [symbols, count] : words) {
      std::vector<int> merged;
      for (size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == a && symbols[i + 1] == b) {
          merged.push_back(z);
          ++i;
        } else {
          merged.push_back(symbols[i]);
        }
      }
      symbols = merged;
    }
  }
  return merges;
}

}  // namespace

TEST(BpeTrainer, IncrementalCountsGiveTheSameMergesAsRecountingEachStep) {
  rlhf::test::TempDir dir;
  BpeTrainOptions options;
  options.vocab_size = 450;
  rlhf::train_bpe({kConstitution}, options).save(dir.path() / "tok");
  const auto expected = naive_merges(read_file(kConstitution), options.vocab_size);
  ASSERT_EQ(expected.size(), 450u - 257u);
  EXPECT_EQ(merge_lines(dir.path() / "tok"), expected);
}

TEST(BpeTrainer, ProducesExactlyTheRequestedVocabSizeWithEndOfTextLast) {
  BpeTrainOptions options;
  options.vocab_size = 1000;
  auto tokenizer = rlhf::train_bpe({kConstitution}, options);
  EXPECT_EQ(tokenizer.vocab_size(), 1000);
  EXPECT_EQ(tokenizer.merge_count(), 1000 - 257);
  EXPECT_EQ(tokenizer.eot_id(), 999);
  EXPECT_EQ(tokenizer.decode_token(999), "<|endoftext|>");
  EXPECT_EQ(tokenizer.decode_token('A'), "A");  // byte tokens come first, id = byte value
}

TEST(BpeTrainer, RoundTripsItsTrainingTextAndCompressesIt) {
  BpeTrainOptions options;
  options.vocab_size = 1000;
  auto tokenizer = rlhf::train_bpe({kConstitution}, options);
  const std::string text = read_file(kConstitution);
  auto ids = tokenizer.encode(text);
  EXPECT_EQ(tokenizer.decode(ids), text);
  EXPECT_LT(ids.size(), text.size() / 3);  // a 1k vocab on its own training text: > 3 bytes/token
}

TEST(BpeTrainer, FirstMergesAreWhatHandCountingSays) {
  // Words: "hug" x1, " hug" x2, " pug", " pun", " bun". Pair counts: u g = 4, h u = 3, then
  // " "+h, " "+p, p u, u n = 2 each. After u+g and h+ug, the count-2 tie goes to the smallest ids:
  // (" " = 32, "p" = 112) beats (" ", "hug" = 257) and ("u", "n").
  rlhf::test::TempDir dir;
  auto file = dir.write("tiny.txt", "hug hug hug pug pun bun");
  BpeTrainOptions options;
  options.vocab_size = 260;  // three merges + <|endoftext|>
  auto tokenizer = rlhf::train_bpe({file}, options);
  tokenizer.save(dir.path() / "tok");
  EXPECT_EQ(merge_lines(dir.path() / "tok"), (std::vector<std::string>{"u g", "h ug", "\u0120 p"}));
  EXPECT_EQ(tokenizer.encode("hug"), (std::vector<TokenId>{257}));
  EXPECT_EQ(tokenizer.encode(" pug"), (std::vector<TokenId>{258, 256}));
}

TEST(BpeTrainer, StopsEarlyWhenNoPairIsFrequentEnough) {
  rlhf::test::TempDir dir;
  auto file = dir.write("tiny.txt", "abab cd");
  BpeTrainOptions options;
  options.vocab_size = 1000;
  options.min_pair_count = 2;  // only "a b" occurs twice
  auto tokenizer = rlhf::train_bpe({file}, options);
  EXPECT_EQ(tokenizer.vocab_size(), 258);
  EXPECT_EQ(tokenizer.encode("abab"), (std::vector<TokenId>{256, 256}));
  EXPECT_EQ(tokenizer.eot_id(), 257);
}

TEST(BpeTrainer, IsDeterministicAcrossRuns) {
  rlhf::test::TempDir dir;
  BpeTrainOptions options;
  options.vocab_size = 600;
  rlhf::train_bpe({kConstitution}, options).save(dir.path() / "a");
  rlhf::train_bpe({kConstitution}, options).save(dir.path() / "b");
  EXPECT_EQ(read_file(dir.path() / "a" / "vocab.bpe"), read_file(dir.path() / "b" / "vocab.bpe"));
  EXPECT_EQ(read_file(dir.path() / "a" / "encoder.json"), read_file(dir.path() / "b" / "encoder.json"));
}

TEST(BpeTrainer, SavedFilesLoadBackToTheSameTokenizer) {
  rlhf::test::TempDir dir;
  BpeTrainOptions options;
  options.vocab_size = 800;
  auto trained = rlhf::train_bpe({kConstitution}, options);
  trained.save(dir.path() / "tok");
  auto loaded = Tokenizer::load(dir.path() / "tok");
  const std::string text = read_file(kConstitution).substr(0, 20000) + "<|endoftext|> caf\u00e9";
  EXPECT_EQ(loaded.vocab_size(), trained.vocab_size());
  EXPECT_EQ(loaded.encode(text, true), trained.encode(text, true));
}

TEST(BpeTrainer, EndOfTextInTheTrainingTextSeparatesDocuments) {
  rlhf::test::TempDir dir;
  auto file = dir.write("docs.txt", "xy<|endoftext|>xy<|endoftext|>");
  BpeTrainOptions options;
  options.vocab_size = 300;
  auto tokenizer = rlhf::train_bpe({file}, options);
  // Only "x y" occurs twice; nothing was learned from the special token's characters.
  EXPECT_EQ(tokenizer.vocab_size(), 258);
  EXPECT_EQ(tokenizer.encode("xy"), (std::vector<TokenId>{256}));
}

TEST(BpeTrainer, RejectsATooSmallVocabAndMissingFiles) {
  BpeTrainOptions options;
  options.vocab_size = 100;
  EXPECT_THROW(rlhf::train_bpe({kConstitution}, options), std::runtime_error);
  options.vocab_size = 300;
  try {
    rlhf::train_bpe({kProjectDir / "no_such_file.txt"}, options);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_file.txt"), std::string::npos);
  }
}
