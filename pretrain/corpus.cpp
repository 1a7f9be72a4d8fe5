#include "pretrain/corpus.h"

#include <iostream>
#include <sstream>
#include <stdexcept>

#include "io/files.h"
#include "io/stable_hash.h"
#include "text/documents.h"

namespace rlhf {

namespace fs = std::filesystem;

namespace {

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << std::hex << v;
  return s.str();
}

// Bumped when the rules that turn files into tokens change, so old caches are not reused.
constexpr uint64_t kCorpusFormat = 2'000'000;

bool is_split(const fs::path& file, const CorpusConfig& config) {
  return is_hash_split_file(file, config.hash_split_files);
}

// Appends a file's documents to train and val by the hold-out rules above.
void split_documents(const DocumentFile& file, const Tokenizer& tokenizer, double val_fraction,
                     std::vector<TokenId>& train, std::vector<TokenId>& val) {
  const uint64_t val_share = static_cast<uint64_t>(val_fraction * 1e6);
  for (const auto& document : file.documents) {
    auto ids = tokenizer.encode(document.text);
    ids.push_back(tokenizer.eot_id());
    if (file.one_per_line) {
      const bool held_out = document.reserved || stable_hash(document.text) % 1000000 < val_share;
      auto& into = held_out ? val : train;
      into.insert(into.end(), ids.begin(), ids.end());
    } else {
      const size_t n_val = static_cast<size_t>(ids.size() * val_fraction);
      train.insert(train.end(), ids.begin(), ids.end() - n_val);
      val.insert(val.end(), ids.end() - n_val, ids.end());
    }
  }
}

}  // namespace

Corpus prepare_corpus(const CorpusConfig& config, const Tokenizer& tokenizer, const fs::path& tokenizer_dir,
                      const std::string& field) {
  if (config.val_fraction <= 0.0 || config.val_fraction >= 0.5)
    throw std::runtime_error(field.substr(0, field.rfind('.')) + ".val_fraction must be in (0, 0.5)");
  auto files = expand_files(config.files, field);
  // The key covers everything that decides the tokens: files, tokenizer, hold-out share and split.
  std::string split_flags;
  for (const auto& file : files) split_flags += is_split(file, config) ? '1' : '0';
  const uint64_t rules = stable_hash(split_flags) ^ (kCorpusFormat + static_cast<uint64_t>(config.val_fraction * 1e6));
  const uint64_t hash = hash_files(files, hash_files({tokenizer_dir / "encoder.json", tokenizer_dir / "vocab.bpe"}, rules));
  const fs::path base = fs::path(config.cache_dir) / hex(hash);
  const fs::path train_path = base.string() + ".train.tokens", val_path = base.string() + ".val.tokens";
  if (!fs::exists(train_path) || !fs::exists(val_path)) {
    fs::create_directories(config.cache_dir);
    std::vector<TokenId> train, val;
    for (const auto& file : files) {
      const size_t train_before = train.size(), val_before = val.size();
      const DocumentFile documents = read_documents(file, is_split(file, config));
      split_documents(documents, tokenizer, config.val_fraction, train, val);
      std::cerr << "corpus: tokenized " << file.string() << ": " << documents.documents.size() << " documents, "
                << train.size() - train_before << " train / " << val.size() - val_before << " val tokens\n";
    }
    TokenFile::write(train_path, train, tokenizer.vocab_size(), hash);
    TokenFile::write(val_path, val, tokenizer.vocab_size(), hash);
  }
  return {TokenFile(train_path), TokenFile(val_path)};
}

std::pair<torch::Tensor, torch::Tensor> windows(const TokenFile& tokens, const std::vector<int64_t>& starts, int64_t T) {
  std::vector<torch::Tensor> rows;
  for (int64_t s : starts) rows.push_back(tokens.slice(s, T + 1));
  auto batch = torch::stack(rows);                                            // (B, T + 1)
  return {batch.narrow(1, 0, T), batch.narrow(1, 1, T)};
}

}  // namespace rlhf
