// GPT-2 byte-level BPE: encoder.json (token string -> id) + vocab.bpe (merges by rank).
// Exact to OpenAI's encoder: the GPT-2 pre-tokenizer regex with Unicode letter/number classes,
// the byte-to-unicode mapping, merges applied lowest rank first. "<|endoftext|>" is a special
// token only when the caller allows it; otherwise it is encoded as ordinary text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rlhf {

using TokenId = int64_t;  // matches torch::kLong, the dtype of every id tensor

class Tokenizer {
 public:
  // Reads DIR/encoder.json and DIR/vocab.bpe; throws with the file name on any problem.
  static Tokenizer load(const std::filesystem::path& dir);
  // Writes DIR/encoder.json and DIR/vocab.bpe (atomically), readable by load() and by HF/tiktoken.
  void save(const std::filesystem::path& dir) const;
  // The same two formats under other names (HF calls them vocab.json and merges.txt).
  static Tokenizer load_files(const std::filesystem::path& encoder_json, const std::filesystem::path& merges);
  void save_files(const std::filesystem::path& encoder_json, const std::filesystem::path& merges) const;

  std::vector<TokenId> encode(std::string_view text, bool allow_special = false) const;
  // Invalid UTF-8 produced by a partial byte sequence is kept as raw bytes (round trips exactly).
  std::string decode(const std::vector<TokenId>& ids) const;
  std::string decode_token(TokenId id) const;  // one token's bytes

  int64_t vocab_size() const;
  int64_t merge_count() const;  // lines in vocab.bpe
  TokenId eot_id() const;  // id of "<|endoftext|>"
  static constexpr std::string_view kEndOfText = "<|endoftext|>";

  // Construction from parts (used by the BPE trainer and tests).
  Tokenizer(std::unordered_map<std::string, TokenId> encoder,
            std::vector<std::pair<std::string, std::string>> merges);
  Tokenizer() = default;

 private:
  // implementation-defined members
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Building blocks shared by the tokenizer and the trainer (not needed by other modules).
namespace detail {
// The GPT-2 pre-tokenizer regex, applied to UTF-8 text: the pieces, in order, concatenate to text.
// An invalid UTF-8 byte is kept and counts as one character of the "other" (punctuation) class.
std::vector<std::string_view> split_words(std::string_view text);
// GPT-2's printable stand-in for one byte, as UTF-8: the alphabet of encoder.json and vocab.bpe.
std::string byte_to_unicode(uint8_t byte);
}  // namespace detail

}  // namespace rlhf
