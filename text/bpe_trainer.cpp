// Byte-level BPE training. Words (from the GPT-2 pre-tokenizer) are counted once; then the most
// frequent adjacent token pair, summed over words weighted by their counts, is merged into a new
// token, again and again. Only the words that contain the merged pair are revisited, and pair
// counts change by deltas, so each merge costs about the size of the words it touches.
#include <algorithm>
#include <queue>
#include <stdexcept>

#include "text/bpe_trainer.h"
#include "text/documents.h"

namespace rlhf {
namespace {

using Symbol = int32_t;  // a token id during training: 0..255 are the bytes themselves
using PairKey = uint64_t;

PairKey pair_key(Symbol a, Symbol b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }
Symbol pair_left(PairKey key) { return static_cast<Symbol>(key >> 32); }
Symbol pair_right(PairKey key) { return static_cast<Symbol>(key & 0xFFFFFFFFu); }

struct Word {
  std::vector<Symbol> symbols;
  int64_t count = 0;
};

// Every distinct pre-tokenizer word with its count, sorted by text so training is deterministic.
// "<|endoftext|>" in the text is a document separator, not something to learn merges from.
// Documents reserved for evaluation are not learned from.
std::vector<Word> count_words(const std::vector<std::filesystem::path>& files, const BpeTrainOptions& options) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& file : files) {
    for (const auto& document : read_documents(file, is_hash_split_file(file, options.hash_split_files)).documents) {
      if (document.reserved) continue;
      const std::string_view all(document.text);
      size_t start = 0;
      while (start <= all.size()) {
        size_t end = std::min(all.find(Tokenizer::kEndOfText, start), all.size());
        for (std::string_view word : detail::split_words(all.substr(start, end - start))) ++counts[std::string(word)];
        start = end + Tokenizer::kEndOfText.size();
      }
    }
  }
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (const auto& [text, count] : sorted) {
    Word word;
    word.count = count;
    for (unsigned char b : text) word.symbols.push_back(b);
    words.push_back(std::move(word));
  }
  return words;
}

// Replaces every (a, b) in the word by z, left to right. Returns whether anything changed.
bool merge_in_word(std::vector<Symbol>& symbols, Symbol a, Symbol b, Symbol z) {
  size_t out = 0;
  bool changed = false;
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (i + 1 < symbols.size() && symbols[i] == a && symbols[i + 1] == b) {
      symbols[out++] = z;
      ++i;
      changed = true;
    } else {
      symbols[out++] = symbols[i];
    }
  }
  symbols.resize(out);
  return changed;
}

// A candidate merge in the priority queue. Entries go stale when counts change; a popped entry is
// used only if its count is still current (lazy deletion).
struct Candidate {
  int64_t count;
  PairKey pair;
  // Highest count first; ties go to the smaller (left id, right id), so runs are deterministic.
  bool operator<(const Candidate& other) const {
    if (count != other.count) return count < other.count;
    return pair > other.pair;
  }
};

class Trainer {
 public:
  explicit Trainer(std::vector<Word> words) : words_(std::move(words)), visited_(words_.size(), -1) {
    for (int32_t w = 0; w < static_cast<int32_t>(words_.size()); ++w) {
      const auto& s = words_[w].symbols;
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        PairKey key = pair_key(s[i], s[i + 1]);
        pair_count_[key] += words_[w].count;
        auto& where = pair_words_[key];
        if (where.empty() || where.back() != w) where.push_back(w);
      }
    }
    for (const auto& [key, count] : pair_count_) queue_.push({count, key});
  }

  // The best pair and its count, or count 0 when no pair is left.
  Candidate best() {
    while (!queue_.empty()) {
      Candidate top = queue_.top();
      auto it = pair_count_.find(top.pair);
      if (it != pair_count_.end() && it->second == top.count) return top;
      queue_.pop();  // stale
    }
    return {0, 0};
  }

  // Merges the pair into symbol z in every word that contains it, updating the pair counts.
  void merge(PairKey pair, Symbol z) {
    const Symbol a = pair_left(pair), b = pair_right(pair);
    ++merge_count_;
    std::vector<int32_t> candidates = std::move(pair_words_[pair]);
    pair_words_.erase(pair);
    std::unordered_map<PairKey, int64_t> delta;
    for (int32_t w : candidates) {
      if (visited_[w] == merge_count_) continue;  // listed twice
      visited_[w] = merge_count_;
      Word& word = words_[w];
      std::vector<Symbol> before = word.symbols;
      if (!merge_in_word(word.symbols, a, b, z)) continue;  // stale entry: the pair is gone
      // Remove the word's old pairs and add its new ones; unchanged pairs cancel out in delta.
      for (size_t i = 0; i + 1 < before.size(); ++i) delta[pair_key(before[i], before[i + 1])] -= word.count;
      const auto& s = word.symbols;
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        PairKey key = pair_key(s[i], s[i + 1]);
        delta[key] += word.count;
        if (s[i] == z || s[i + 1] == z) {  // a pair that did not exist before in this word
          auto& where = pair_words_[key];
          if (where.empty() || where.back() != w) where.push_back(w);
        }
      }
    }
    for (const auto& [key, change] : delta) {
      if (change == 0) continue;
      int64_t& count = pair_count_[key];
      count += change;
      if (count > 0) {
        queue_.push({count, key});
      } else {
        pair_count_.erase(key);
      }
    }
    pair_count_.erase(pair);  // already 0 after merging every occurrence; this guarantees progress
  }

 private:
  std::vector<Word> words_;
  int64_t merge_count_ = 0;
  std::vector<int64_t> visited_;  // the merge that last touched each word (skips duplicate entries)
  std::unordered_map<PairKey, int64_t> pair_count_;               // weighted by word counts
  std::unordered_map<PairKey, std::vector<int32_t>> pair_words_;  // words that may contain the pair
  std::priority_queue<Candidate> queue_;
};

}  // namespace

Tokenizer train_bpe(const std::vector<std::filesystem::path>& files, const BpeTrainOptions& options) {
  if (options.vocab_size < 257)
    throw std::runtime_error("train_bpe: vocab_size must be at least 257 (256 bytes + <|endoftext|>), got " +
                             std::to_string(options.vocab_size));
  if (options.vocab_size > INT32_MAX) throw std::runtime_error("train_bpe: vocab_size is too large");
  if (files.empty()) throw std::runtime_error("train_bpe: no input files");

  // token_bytes[id] is the raw bytes of each token; 0..255 are the single bytes.
  std::vector<std::string> token_bytes;
  std::unordered_map<std::string, Symbol> id_of_bytes;
  for (int b = 0; b < 256; ++b) {
    token_bytes.emplace_back(1, static_cast<char>(b));
    id_of_bytes[token_bytes.back()] = b;
  }
  std::vector<std::pair<Symbol, Symbol>> merges;

  Trainer trainer(count_words(files, options));
  const auto max_tokens = static_cast<size_t>(options.vocab_size - 1);  // the last id is <|endoftext|>
  while (token_bytes.size() < max_tokens) {
    Candidate best = trainer.best();
    if (best.count < std::max<int64_t>(options.min_pair_count, 1)) break;
    const Symbol a = pair_left(best.pair), b = pair_right(best.pair);
    const std::string bytes = token_bytes[a] + token_bytes[b];
    // Two merge paths can spell the same bytes ("ab"+"c", "a"+"bc"): they share one token, as
    // the loader maps every merge to the token its concatenation names.
    auto [it, is_new] = id_of_bytes.emplace(bytes, static_cast<Symbol>(token_bytes.size()));
    if (is_new) token_bytes.push_back(bytes);
    merges.emplace_back(a, b);
    trainer.merge(best.pair, it->second);
  }

  // The two-file format uses GPT-2's printable byte alphabet.
  auto printable = [](const std::string& bytes) {
    std::string text;
    for (unsigned char c : bytes) text += detail::byte_to_unicode(c);
    return text;
  };
  std::unordered_map<std::string, TokenId> encoder;
  for (size_t id = 0; id < token_bytes.size(); ++id) encoder[printable(token_bytes[id])] = static_cast<TokenId>(id);
  encoder[std::string(Tokenizer::kEndOfText)] = static_cast<TokenId>(token_bytes.size());
  std::vector<std::pair<std::string, std::string>> merge_strings;
  for (const auto& [a, b] : merges) merge_strings.emplace_back(printable(token_bytes[a]), printable(token_bytes[b]));
  return Tokenizer(std::move(encoder), std::move(merge_strings));
}

}  // namespace rlhf
