// GPT-2 byte-level BPE. Text is split into words by the GPT-2 regex (implemented by hand over
// code points), each word's bytes start as single-byte tokens, and merges are applied lowest rank
// first. Internally every token is its raw bytes; the "byte to unicode" alphabet only exists in
// the two files, where it keeps every token a printable string.
#include "text/tokenizer.h"

#include "io/atomic_file.h"
#include "io/error.h"

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <queue>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

namespace rlhf {

// ---------------------------------------------------------------------------------------------
// Byte <-> unicode alphabet (GPT-2's bytes_to_unicode): printable Latin-1 bytes stand for
// themselves, the other 68 bytes are shifted to code points 256, 257, ... in byte order.

namespace {

// UTF-8 for the alphabet's code points, which are all below U+0800 (one or two bytes).
void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct ByteAlphabet {
  std::array<uint32_t, 256> code_point{};           // byte -> stand-in code point
  std::unordered_map<uint32_t, uint8_t> byte_of;    // stand-in code point -> byte

  ByteAlphabet() {
    auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; };
    uint32_t next_shifted = 256;
    for (int b = 0; b < 256; ++b) {
      code_point[b] = printable(b) ? static_cast<uint32_t>(b) : next_shifted++;
      byte_of[code_point[b]] = static_cast<uint8_t>(b);
    }
  }
};

const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet alphabet;  // thread-safe static init
  return alphabet;
}

// Bytes -> the printable form stored in encoder.json / vocab.bpe.
std::string bytes_to_unicode_string(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) append_utf8(out, byte_alphabet().code_point[b]);
  return out;
}

// Printable form -> bytes. Returns false if a code point is outside the alphabet (e.g. a special
// token such as "<|endoftext|>" would still decode, but a hand-made token like "€" would not).
bool unicode_string_to_bytes(std::string_view text, std::string& bytes) {
  bytes.clear();
  const auto& byte_of = byte_alphabet().byte_of;
  size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp = 0;
    auto len = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                                static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (len <= 0) return false;
    auto it = byte_of.find(static_cast<uint32_t>(cp));
    if (it == byte_of.end()) return false;
    bytes += static_cast<char>(it->second);
    i += static_cast<size_t>(len);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Pre-tokenizer: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+

enum class CharClass { Letter, Number, Space, Other };

// \s as in the Python `regex` module (and tiktoken): the Unicode White_Space property.
bool is_white_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

CharClass classify(uint32_t cp) {
  if (cp < 0x80) {  // fast path: most text is ASCII
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::Letter;
    if (cp >= '0' && cp <= '9') return CharClass::Number;
    return is_white_space(cp) ? CharClass::Space : CharClass::Other;
  }
  if (is_white_space(cp)) return CharClass::Space;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return CharClass::Letter;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return CharClass::Number;
    default:
      return CharClass::Other;
  }
}

struct Char {
  CharClass cls;
  size_t len;  // bytes
};

// The character starting at byte i. An invalid UTF-8 byte is a one-byte "other" character, so
// arbitrary bytes still round trip.
Char char_at(std::string_view text, size_t i) {
  unsigned char b = static_cast<unsigned char>(text[i]);
  if (b < 0x80) return {classify(b), 1};
  utf8proc_int32_t cp = 0;
  auto len = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                              static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
  if (len <= 0) return {CharClass::Other, 1};
  return {classify(static_cast<uint32_t>(cp)), static_cast<size_t>(len)};
}

// End of the run of characters of class cls that starts at byte i (== i if none).
size_t run_end(std::string_view text, size_t i, CharClass cls) {
  while (i < text.size()) {
    Char c = char_at(text, i);
    if (c.cls != cls) break;
    i += c.len;
  }
  return i;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0. Case-sensitive, as in GPT-2.
size_t contraction_length(std::string_view text, size_t i) {
  if (text[i] != '\'') return 0;
  std::string_view rest = text.substr(i + 1);
  for (std::string_view suffix : {"re", "ve", "ll"})
    if (rest.substr(0, 2) == suffix) return 3;
  if (!rest.empty() && (rest[0] == 's' || rest[0] == 't' || rest[0] == 'm' || rest[0] == 'd')) return 2;
  return 0;
}

// Byte length of the regex match at i (the alternatives are tried in order, like the regex).
size_t match_length(std::string_view text, size_t i) {
  if (size_t n = contraction_length(text, i)) return n;
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional ASCII space, then a run of one class.
  size_t start = text[i] == ' ' && i + 1 < text.size() ? i + 1 : i;
  CharClass cls = char_at(text, start).cls;
  if (cls != CharClass::Space) return run_end(text, start, cls) - i;
  // "\s+(?!\S)": all the whitespace, except that the last whitespace character stays for the
  // next word when a non-space follows (so " world" keeps its space). "\s+" if only one is left.
  size_t last = i;  // start of the last whitespace character in the run
  size_t end = i;
  while (end < text.size()) {
    Char c = char_at(text, end);
    if (c.cls != CharClass::Space) break;
    last = end;
    end += c.len;
  }
  if (end == text.size() || last == i) return end - i;
  return last - i;
}

}  // namespace

namespace detail {

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  for (size_t i = 0; i < text.size();) {
    size_t n = match_length(text, i);
    words.push_back(text.substr(i, n));
    i += n;
  }
  return words;
}

std::string byte_to_unicode(uint8_t byte) {
  return bytes_to_unicode_string(std::string_view(reinterpret_cast<const char*>(&byte), 1));
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// The loaded vocabulary and merge table.

struct Tokenizer::Impl {
  std::vector<std::string> token_text;   // id -> printable form (as in encoder.json)
  std::vector<std::string> token_bytes;  // id -> raw bytes
  std::array<TokenId, 256> byte_token{};  // byte -> its single-byte token
  struct Merge {
    int64_t rank;
    TokenId result;
  };
  std::unordered_map<uint64_t, Merge> merges;  // (left id, right id) -> rank and merged id
  std::vector<std::pair<std::string, std::string>> merge_list;  // in rank order, for save()
  TokenId eot = -1;

  // Per-word cache: most words repeat, and BPE on a word costs far more than a lookup. encode()
  // may run on many threads (generation), so the cache is guarded by a mutex.
  static constexpr size_t kMaxCacheEntries = 200000;
  static constexpr size_t kMaxCachedWordBytes = 256;
  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<TokenId>> cache;

  static uint64_t pair_key(TokenId a, TokenId b) {
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
  }

  static std::shared_ptr<const Impl> build(const std::unordered_map<std::string, TokenId>& encoder,
                                           std::vector<std::pair<std::string, std::string>> merges,
                                           const std::string& encoder_name,
                                           const std::string& merges_name, size_t first_merge_line);
  std::vector<TokenId> bpe(std::string_view word) const;
  void encode_ordinary(std::string_view text, std::vector<TokenId>& out) const;
};


// Builds the tables. The names say where encoder and merges came from in error messages; merge i
// was on line first_merge_line + i.
std::shared_ptr<const Tokenizer::Impl> Tokenizer::Impl::build(
    const std::unordered_map<std::string, TokenId>& encoder,
    std::vector<std::pair<std::string, std::string>> merges, const std::string& encoder_name,
    const std::string& merges_name, size_t first_merge_line) {
  auto impl = std::make_shared<Impl>();
  const auto n = static_cast<TokenId>(encoder.size());
  if (n == 0) fail(encoder_name + ": the vocabulary is empty");
  if (n > INT32_MAX) fail(encoder_name + ": too many tokens");
  impl->token_text.resize(static_cast<size_t>(n));
  impl->token_bytes.resize(static_cast<size_t>(n));
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (const auto& [text, id] : encoder) {
    if (id < 0 || id >= n)
      fail(encoder_name + ": token \"" + text + "\" has id " + std::to_string(id) +
                  ", outside 0.." + std::to_string(n - 1) + " (ids must be 0..N-1 without gaps)");
    if (seen[static_cast<size_t>(id)])
      fail(encoder_name + ": id " + std::to_string(id) + " is used by two tokens");
    seen[static_cast<size_t>(id)] = true;
    impl->token_text[static_cast<size_t>(id)] = text;
    // A token outside the byte alphabet (a special token) stands for its own UTF-8 text.
    std::string& bytes = impl->token_bytes[static_cast<size_t>(id)];
    if (!unicode_string_to_bytes(text, bytes)) bytes = text;
  }
  for (int b = 0; b < 256; ++b) {
    auto it = encoder.find(detail::byte_to_unicode(static_cast<uint8_t>(b)));
    if (it == encoder.end())
      fail(encoder_name + ": missing the single-byte token for byte " + std::to_string(b) +
                  " (\"" + detail::byte_to_unicode(static_cast<uint8_t>(b)) + "\")");
    impl->byte_token[static_cast<size_t>(b)] = it->second;
  }
  if (auto it = encoder.find(std::string(Tokenizer::kEndOfText)); it != encoder.end()) impl->eot = it->second;

  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    auto where = [&] { return merges_name + " line " + std::to_string(first_merge_line + rank) + " (\"" + left + " " + right + "\")"; };
    auto l = encoder.find(left);
    auto r = encoder.find(right);
    auto m = encoder.find(left + right);
    if (l == encoder.end()) fail(where() + ": unknown token \"" + left + "\"");
    if (r == encoder.end()) fail(where() + ": unknown token \"" + right + "\"");
    if (m == encoder.end()) fail(where() + ": merged token \"" + left + right + "\" is not in the vocabulary");
    // A repeated merge keeps its first (best) rank. GPT-2's own file has no repeats.
    impl->merges.emplace(pair_key(l->second, r->second), Merge{static_cast<int64_t>(rank), m->second});
  }
  impl->merge_list = std::move(merges);
  return impl;
}

namespace {

void check_id(TokenId id, int64_t vocab_size) {
  if (id < 0 || id >= vocab_size)
    fail("Tokenizer::decode: token id " + std::to_string(id) + " is outside the vocabulary 0.." +
                std::to_string(vocab_size - 1));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// BPE

// Merges a word's bytes into tokens like GPT-2: in passes, each pass takes the lowest-rank pair
// present and merges all its occurrences left to right. Live positions form a linked list and
// candidate pairs sit in a heap ordered by (rank, position), so a megabyte-long "word" (a base64
// blob, say) costs O(n log n) instead of a rescan of the word per pass.
std::vector<TokenId> Tokenizer::Impl::bpe(std::string_view word) const {
  const int n = static_cast<int>(word.size());
  std::vector<TokenId> id(static_cast<size_t>(n));  // token starting at each position; -1: merged away
  std::vector<int> prev(static_cast<size_t>(n)), next(static_cast<size_t>(n));  // -1 / n: none
  for (int i = 0; i < n; ++i) {
    id[i] = byte_token[static_cast<unsigned char>(word[i])];
    prev[i] = i - 1;
    next[i] = i + 1;
  }
  struct Candidate {
    int64_t rank;
    int pos;  // left position of the pair
    uint64_t pair;
    TokenId result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  auto candidate_at = [&](int pos) -> std::optional<Candidate> {
    if (pos < 0 || next[pos] >= n) return std::nullopt;
    const uint64_t key = pair_key(id[pos], id[next[pos]]);
    auto it = merges.find(key);
    if (it == merges.end()) return std::nullopt;
    return Candidate{it->second.rank, pos, key, it->second.result};
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  for (int i = 0; i + 1 < n; ++i)
    if (auto c = candidate_at(i)) heap.push(*c);

  std::vector<Candidate> pending;  // pairs created during a pass compete from the next pass on
  int64_t pass_rank = -1;
  while (true) {
    if (heap.empty() || heap.top().rank != pass_rank) {  // the pass is over
      for (const auto& c : pending) heap.push(c);
      pending.clear();
      if (heap.empty()) break;
      pass_rank = heap.top().rank;
    }
    const Candidate c = heap.top();
    heap.pop();
    if (id[c.pos] < 0 || next[c.pos] >= n || pair_key(id[c.pos], id[next[c.pos]]) != c.pair) continue;  // stale
    const int right = next[c.pos];
    id[c.pos] = c.result;
    id[right] = -1;
    next[c.pos] = next[right];
    if (next[right] < n) prev[next[right]] = c.pos;
    if (auto left_pair = candidate_at(prev[c.pos])) pending.push_back(*left_pair);
    if (auto right_pair = candidate_at(c.pos)) pending.push_back(*right_pair);
  }
  std::vector<TokenId> tokens;
  for (int i = 0; i < n; i = next[i]) tokens.push_back(id[i]);  // position 0 always stays live
  return tokens;
}

void Tokenizer::Impl::encode_ordinary(std::string_view text, std::vector<TokenId>& out) const {
  for (std::string_view word : detail::split_words(text)) {
    if (word.size() == 1) {  // common (spaces, punctuation): no lookup needed
      out.push_back(byte_token[static_cast<unsigned char>(word[0])]);
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(cache_mutex);
      auto it = cache.find(std::string(word));
      if (it != cache.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        continue;
      }
    }
    std::vector<TokenId> ids = bpe(word);
    out.insert(out.end(), ids.begin(), ids.end());
    if (word.size() > kMaxCachedWordBytes) continue;  // rare, and would bloat the cache
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (cache.size() >= kMaxCacheEntries) cache.clear();  // bound memory on huge, varied inputs
    cache.emplace(std::string(word), std::move(ids));
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

Tokenizer::Tokenizer(std::unordered_map<std::string, TokenId> encoder,
                     std::vector<std::pair<std::string, std::string>> merges)
    : impl_(Impl::build(encoder, std::move(merges), "encoder", "merges", 1)) {}

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    fail(dir.string() + ": tokenizer directory not found (expected encoder.json and vocab.bpe)");
  return load_files(dir / "encoder.json", dir / "vocab.bpe");
}

Tokenizer Tokenizer::load_files(const std::filesystem::path& encoder_path,
                                const std::filesystem::path& merges_path) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(read_file(encoder_path));  // read_file names a missing file
  } catch (const nlohmann::json::parse_error& e) {
    fail(encoder_path.string() + ": invalid JSON: " + e.what());
  }
  if (!json.is_object())
    fail(encoder_path.string() + ": expected a JSON object {\"token\": id, ...}");
  std::unordered_map<std::string, TokenId> encoder;
  encoder.reserve(json.size());
  for (const auto& [key, value] : json.items()) {
    if (!value.is_number_integer())
      fail(encoder_path.string() + ": token \"" + key + "\" has a non-integer id " + value.dump());
    encoder.emplace(key, value.get<TokenId>());
  }

  // vocab.bpe: an optional "#version" line, then one "left right" merge per line, best first.
  std::istringstream lines(read_file(merges_path));
  std::vector<std::pair<std::string, std::string>> merges;
  std::string line;
  size_t line_number = 0;
  size_t first_merge_line = 0;
  size_t blank_line = 0;  // blank lines are allowed only at the end of the file
  while (std::getline(lines, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line.rfind("#version", 0) == 0) continue;
    if (line.empty()) {
      if (blank_line == 0) blank_line = line_number;
      continue;
    }
    auto where = [&](size_t n) { return merges_path.string() + " line " + std::to_string(n); };
    if (blank_line != 0) fail(where(blank_line) + ": unexpected blank line between merges");
    if (first_merge_line == 0) first_merge_line = line_number;
    size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      fail(where(line_number) + ": expected two tokens separated by one space, got \"" + line + "\"");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  Tokenizer tokenizer;
  tokenizer.impl_ = Impl::build(encoder, std::move(merges), encoder_path.string(),
                               merges_path.string(), first_merge_line);
  return tokenizer;
}

void Tokenizer::save(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir);
  save_files(dir / "encoder.json", dir / "vocab.bpe");
}

void Tokenizer::save_files(const std::filesystem::path& encoder_path,
                           const std::filesystem::path& merges_path) const {
  if (!impl_) fail("Tokenizer::save: the tokenizer is empty (nothing loaded or trained)");
  // Written by hand in id order, like the original encoder.json (nlohmann's ordered_json inserts
  // in linear time per key, too slow for 50k keys). ASCII escapes keep the file portable.
  std::string encoder = "{";
  for (size_t id = 0; id < impl_->token_text.size(); ++id) {
    encoder += id == 0 ? "" : ", ";
    encoder += nlohmann::json(impl_->token_text[id]).dump(-1, ' ', /*ensure_ascii=*/true);
    encoder += ": " + std::to_string(id);
  }
  encoder += "}";
  write_file_atomic(encoder_path, encoder);

  std::string merges = "#version: 0.2\n";
  for (const auto& [left, right] : impl_->merge_list) merges += left + " " + right + "\n";
  write_file_atomic(merges_path, merges);
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool allow_special) const {
  if (!impl_) fail("Tokenizer::encode: the tokenizer is empty (nothing loaded or trained)");
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 3);
  if (!allow_special || impl_->eot < 0) {
    impl_->encode_ordinary(text, ids);
    return ids;
  }
  // Special tokens split the text; the pieces between them are encoded as ordinary text.
  size_t start = 0;
  for (size_t hit; (hit = text.find(kEndOfText, start)) != std::string_view::npos;) {
    impl_->encode_ordinary(text.substr(start, hit - start), ids);
    ids.push_back(impl_->eot);
    start = hit + kEndOfText.size();
  }
  impl_->encode_ordinary(text.substr(start), ids);
  return ids;
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids) const {
  if (!impl_) fail("Tokenizer::decode: the tokenizer is empty (nothing loaded or trained)");
  std::string text;
  for (TokenId id : ids) {
    check_id(id, vocab_size());
    text += impl_->token_bytes[static_cast<size_t>(id)];
  }
  return text;
}

std::string Tokenizer::decode_token(TokenId id) const {
  if (!impl_) fail("Tokenizer::decode: the tokenizer is empty (nothing loaded or trained)");
  check_id(id, vocab_size());
  return impl_->token_bytes[static_cast<size_t>(id)];
}

int64_t Tokenizer::vocab_size() const {
  return impl_ ? static_cast<int64_t>(impl_->token_bytes.size()) : 0;
}

int64_t Tokenizer::merge_count() const {
  return impl_ ? static_cast<int64_t>(impl_->merge_list.size()) : 0;
}

TokenId Tokenizer::eot_id() const {
  if (!impl_ || impl_->eot < 0)
    fail(std::string("Tokenizer: the vocabulary has no \"") + std::string(kEndOfText) + "\" token");
  return impl_->eot;
}

}  // namespace rlhf
