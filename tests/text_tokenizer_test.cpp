// GPT-2 tokenizer: exact ids against vectors from two independent JS implementations, byte-exact
// round trips on every shipped text file, the special token, save/load and error messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "text/tokenizer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using rlhf::TokenId;
using rlhf::Tokenizer;

namespace {

const fs::path kProjectDir = RLHF_PROJECT_DIR;
const fs::path kGpt2Dir = kProjectDir / "data" / "tokenizer" / "gpt2";

// Loading 50k tokens + 50k merges takes a moment: share one instance.
const Tokenizer& gpt2() {
  static const Tokenizer tokenizer = Tokenizer::load(kGpt2Dir);
  return tokenizer;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// Copies the GPT-2 files into dir so a test can corrupt one of them.
void copy_gpt2(const fs::path& dir) {
  fs::copy_file(kGpt2Dir / "encoder.json", dir / "encoder.json");
  fs::copy_file(kGpt2Dir / "vocab.bpe", dir / "vocab.bpe");
}

// The message of the runtime_error that fn throws ("" if none).
template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// A tiny vocabulary from parts: the 256 byte tokens, "ab", "abc" and <|endoftext|>.
Tokenizer tiny_tokenizer() {
  std::unordered_map<std::string, TokenId> encoder;
  for (int b = 0; b < 256; ++b) encoder[rlhf::detail::byte_to_unicode(static_cast<uint8_t>(b))] = b;
  encoder["ab"] = 256;
  encoder["abc"] = 257;
  encoder[std::string(Tokenizer::kEndOfText)] = 258;
  return Tokenizer(encoder, {{"a", "b"}, {"ab", "c"}});
}

// OpenAI's encoder.py bpe(), transcribed literally: symbols are strings in the byte alphabet;
// repeatedly merge every occurrence of the lowest-rank pair. Slow and obviously faithful.
class ReferenceBpe {
 public:
  ReferenceBpe() {
    std::istringstream merges(read_file(kGpt2Dir / "vocab.bpe"));
    std::string line;
    std::getline(merges, line);  // #version
    for (int64_t rank = 0; std::getline(merges, line); ++rank) {
      auto space = line.find(' ');
      ranks_.emplace(line.substr(0, space) + "\n" + line.substr(space + 1), rank);
    }
    encoder_ = nlohmann::json::parse(read_file(kGpt2Dir / "encoder.json"));
  }

  std::vector<TokenId> encode_word(std::string_view word) const {
    std::vector<std::string> parts;
    for (unsigned char b : word) parts.push_back(rlhf::detail::byte_to_unicode(b));
    while (parts.size() > 1) {
      int64_t best_rank = -1;
      std::string best_left, best_right;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        auto it = ranks_.find(parts[i] + "\n" + parts[i + 1]);
        if (it != ranks_.end() && (best_rank < 0 || it->second < best_rank)) {
          best_rank = it->second;
          best_left = parts[i];
          best_right = parts[i + 1];
        }
      }
      if (best_rank < 0) break;
      std::vector<std::string> merged;
      for (size_t i = 0; i < parts.size(); ++i) {
        if (i + 1 < parts.size() && parts[i] == best_left && parts[i + 1] == best_right) {
          merged.push_back(best_left + best_right);
          ++i;
        } else {
          merged.push_back(parts[i]);
        }
      }
      parts = merged;
    }
    std::vector<TokenId> ids;
    for (const auto& part : parts) ids.push_back(encoder_.at(part).get<TokenId>());
    return ids;
  }

 private:
  std::unordered_map<std::string, int64_t> ranks_;
  nlohmann::json encoder_;
};

}  // namespace

TEST(Gpt2Tokenizer, MatchesAllReferenceTestVectors) {
  std::ifstream in(kGpt2Dir / "gpt2_bpe_test_vectors.jsonl");
  ASSERT_TRUE(in) << "missing test vectors";
  int cases = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto vector = nlohmann::json::parse(line);
    const auto text = vector.at("text").get<std::string>();
    const auto expected = vector.at("ids").get<std::vector<TokenId>>();
    EXPECT_EQ(gpt2().encode(text), expected) << "text: " << text;
    EXPECT_EQ(gpt2().decode(expected), text);
    ++cases;
  }
  EXPECT_EQ(cases, 22);
}

TEST(Gpt2Tokenizer, HasTheGpt2VocabularyAndEndOfTextId) {
  EXPECT_EQ(gpt2().vocab_size(), 50257);
  EXPECT_EQ(gpt2().merge_count(), 50000);
  EXPECT_EQ(gpt2().eot_id(), 50256);
  EXPECT_EQ(gpt2().decode_token(50256), "<|endoftext|>");
  EXPECT_EQ(gpt2().decode_token(220), " ");
}

TEST(Gpt2Tokenizer, EndOfTextIsPlainTextUnlessAllowed) {
  const std::string text = "Hi<|endoftext|>there";
  auto plain = gpt2().encode(text);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 50256), 0);
  EXPECT_EQ(gpt2().decode(plain), text);

  auto special = gpt2().encode(text, /*allow_special=*/true);
  EXPECT_EQ(special, (std::vector<TokenId>{17250, 50256, 8117}));
  EXPECT_EQ(gpt2().decode(special), text);
  EXPECT_EQ(gpt2().encode("<|endoftext|><|endoftext|>", true), (std::vector<TokenId>{50256, 50256}));
}

TEST(Gpt2Tokenizer, SplitsWordsLikeTheGpt2Regex) {
  using Words = std::vector<std::string_view>;
  auto split = rlhf::detail::split_words;
  EXPECT_EQ(split("Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split("I'm they'll 'x"), (Words{"I", "'m", " they", "'ll", " '", "x"}));
  EXPECT_EQ(split("a  b"), (Words{"a", " ", " b"}));                  // last space joins the word
  EXPECT_EQ(split("a\n\nb"), (Words{"a", "\n", "\n", "b"}));          // \s+(?!\S) then \s+
  EXPECT_EQ(split("end   "), (Words{"end", "   "}));                  // trailing run kept whole
  EXPECT_EQ(split("x1.5%"), (Words{"x", "1", ".", "5", "%"}));
  EXPECT_EQ(split("caf\u00e9 \u0663\u0664"), (Words{"caf\u00e9", " \u0663\u0664"}));  // \p{L}, \p{N}
  // \s is Unicode White_Space (NBSP, ideographic space) but not U+001C (Python `re` would differ).
  EXPECT_EQ(split("a\u00a0b\u3000c"), (Words{"a", "\u00a0", "b", "\u3000", "c"}));
  EXPECT_EQ(split("a\x1c b"), (Words{"a", "\x1c", " b"}));
}

TEST(Gpt2Tokenizer, RoundTripsArbitraryBytesIncludingInvalidUtf8) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  EXPECT_EQ(gpt2().decode(gpt2().encode(all_bytes)), all_bytes);
  const std::string broken = "caf\xc3 \xe2\x82 ok \xff\xfe\xed\xa0\x80 \xf0\x9f\x98";
  EXPECT_EQ(gpt2().decode(gpt2().encode(broken)), broken);
}

TEST(Gpt2Tokenizer, RoundTripsEveryShippedTextFile) {
  const std::vector<std::string> text_extensions = {".txt", ".jsonl", ".json", ".md", ".csv", ".bpe"};
  int files = 0;
  for (const fs::path& root : {kProjectDir / "data", fs::path(RLHF_TEST_DATA_DIR)}) {
    if (!fs::exists(root)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      const auto ext = entry.path().extension().string();
      if (!entry.is_regular_file() ||
          std::find(text_extensions.begin(), text_extensions.end(), ext) == text_extensions.end())
        continue;
      const std::string text = read_file(entry.path());
      EXPECT_EQ(gpt2().decode(gpt2().encode(text)), text) << entry.path();
      ++files;
    }
  }
  EXPECT_GE(files, 3);  // at least the test vectors and the GPT-2 files
}

TEST(Gpt2Tokenizer, MergesLikeTheReferenceBpeOnEveryDistinctWordOfACorpus) {
  const ReferenceBpe reference;
  const std::string text = read_file(kProjectDir / "data" / "corpus" / "devils_dictionary.txt") +
                           " aaaaaaaaaaa 1111111111 ............ \u00e9\u00e9\u00e9 \U0001F600\U0001F600";
  std::set<std::string_view> words;
  for (auto word : rlhf::detail::split_words(text)) words.insert(word);
  ASSERT_GT(words.size(), 1000u);
  for (auto word : words) ASSERT_EQ(gpt2().encode(word), reference.encode_word(word)) << "word: " << word;
}

TEST(Gpt2Tokenizer, EncodesAMegabyteLongWordQuicklyAndExactly) {
  std::string word;
  uint32_t state = 1;
  for (int i = 0; i < 1000000; ++i) {
    state = state * 1664525u + 1013904223u;  // a fixed LCG: the same "word" every run
    word += static_cast<char>('a' + (state >> 24) % 26);
  }
  const auto ids = gpt2().encode(word);  // one pre-tokenizer word: O(n log n) BPE, ~1 s
  EXPECT_EQ(gpt2().decode(ids), word);
  const auto prefix = word.substr(0, 3000);
  EXPECT_EQ(gpt2().encode(prefix), ReferenceBpe().encode_word(prefix));
}

TEST(Gpt2Tokenizer, ConcurrentEncodesGiveTheSameIds) {
  const std::string text = read_file(kGpt2Dir / "gpt2_bpe_test_vectors.jsonl");
  const auto expected = Tokenizer::load(kGpt2Dir).encode(text);  // a fresh, cold cache
  std::vector<std::vector<TokenId>> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) threads.emplace_back([&] { result = gpt2().encode(text); });
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_EQ(result, expected);
}

TEST(Gpt2Tokenizer, SaveThenLoadGivesTheSameTokenizerAndMergeFile) {
  rlhf::test::TempDir dir;
  gpt2().save(dir.path() / "copy");
  auto copy = Tokenizer::load(dir.path() / "copy");
  EXPECT_EQ(copy.vocab_size(), gpt2().vocab_size());
  EXPECT_EQ(copy.eot_id(), gpt2().eot_id());
  const std::string text = "Unicode: caf\u00e9 \U0001F600, numbers 12345 and <|endoftext|>";
  EXPECT_EQ(copy.encode(text, true), gpt2().encode(text, true));
  EXPECT_EQ(read_file(dir.path() / "copy" / "vocab.bpe"), read_file(kGpt2Dir / "vocab.bpe"));
  EXPECT_EQ(nlohmann::json::parse(read_file(dir.path() / "copy" / "encoder.json")),
            nlohmann::json::parse(read_file(kGpt2Dir / "encoder.json")));
  EXPECT_FALSE(fs::exists(dir.path() / "copy" / "encoder.json.tmp"));
  EXPECT_FALSE(fs::exists(dir.path() / "copy" / "vocab.bpe.tmp"));
}

TEST(Gpt2Tokenizer, LoadsAndSavesUnderHuggingFaceFileNames) {
  rlhf::test::TempDir dir;
  gpt2().save_files(dir.path() / "vocab.json", dir.path() / "merges.txt");
  auto copy = Tokenizer::load_files(dir.path() / "vocab.json", dir.path() / "merges.txt");
  EXPECT_EQ(copy.vocab_size(), 50257);
  EXPECT_EQ(copy.merge_count(), 50000);
  EXPECT_EQ(copy.encode("Hello world"), (std::vector<TokenId>{15496, 995}));
}

TEST(TokenizerFromParts, AppliesMergesByRank) {
  auto tokenizer = tiny_tokenizer();
  EXPECT_EQ(tokenizer.vocab_size(), 259);
  EXPECT_EQ(tokenizer.eot_id(), 258);
  const TokenId space = ' ';  // byte tokens have the byte's id in this vocabulary
  EXPECT_EQ(tokenizer.encode("abc ab"), (std::vector<TokenId>{257, space, 256}));  // " ab" is one word
  EXPECT_EQ(tokenizer.encode("ba"), (std::vector<TokenId>{'b', 'a'}));
  EXPECT_EQ(tokenizer.encode("abcab"), (std::vector<TokenId>{257, 256}));
  EXPECT_EQ(tokenizer.encode("<|endoftext|>", true), (std::vector<TokenId>{258}));
}

TEST(TokenizerFromParts, RejectsAMergeOfUnknownTokens) {
  std::unordered_map<std::string, TokenId> encoder;
  for (int b = 0; b < 256; ++b) encoder[rlhf::detail::byte_to_unicode(static_cast<uint8_t>(b))] = b;
  EXPECT_NE(error_of([&] { Tokenizer(encoder, {{"a", "b"}}); }).find("\"ab\" is not in the vocabulary"),
            std::string::npos);
  encoder["ab"] = 256;
  EXPECT_NE(error_of([&] { Tokenizer(encoder, {{"a", "zz"}}); }).find("unknown token \"zz\""), std::string::npos);
}

TEST(TokenizerErrors, DecodeRejectsIdsOutsideTheVocabulary) {
  EXPECT_NE(error_of([] { gpt2().decode({15496, 50257}); }).find("50257"), std::string::npos);
  EXPECT_NE(error_of([] { gpt2().decode({-1}); }).find("-1"), std::string::npos);
}

TEST(TokenizerErrors, EmptyTokenizerRefusesToEncode) {
  Tokenizer empty;
  EXPECT_EQ(empty.vocab_size(), 0);
  EXPECT_NE(error_of([&] { empty.encode("x"); }).find("empty"), std::string::npos);
}

TEST(TokenizerErrors, MissingDirectoryOrFileIsNamed) {
  rlhf::test::TempDir dir;
  EXPECT_NE(error_of([&] { Tokenizer::load(dir.path() / "nope"); }).find("nope"), std::string::npos);
  write_file(dir.path() / "vocab.bpe", "#version: 0.2\n");
  EXPECT_NE(error_of([&] { Tokenizer::load(dir.path()); }).find("encoder.json: cannot open"), std::string::npos);
}

TEST(TokenizerErrors, CorruptEncoderJsonIsNamed) {
  rlhf::test::TempDir dir;
  copy_gpt2(dir.path());
  std::string json = read_file(dir.path() / "encoder.json");
  write_file(dir.path() / "encoder.json", json.substr(0, json.size() / 2));  // truncated
  auto message = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(message.find("encoder.json: invalid JSON"), std::string::npos) << message;

  write_file(dir.path() / "encoder.json", R"({"a": "zero"})");
  message = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(message.find("non-integer id"), std::string::npos) << message;

  write_file(dir.path() / "encoder.json", R"({"a": 0, "b": 0})");
  message = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(message.find("encoder.json"), std::string::npos) << message;
}

TEST(TokenizerErrors, MergeOfUnknownTokenNamesFileAndLine) {
  rlhf::test::TempDir dir;
  copy_gpt2(dir.path());
  write_file(dir.path() / "vocab.bpe", "#version: 0.2\n\u0120 t\n\u0120 zzz\n");
  auto message = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(message.find("vocab.bpe line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown token \"zzz\""), std::string::npos) << message;

  write_file(dir.path() / "vocab.bpe", "#version: 0.2\n\u0120 t\nhe\n");
  message = error_of([&] { Tokenizer::load(dir.path()); });
  EXPECT_NE(message.find("vocab.bpe line 3: expected two tokens"), std::string::npos) << message;
}
