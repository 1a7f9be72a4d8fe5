#include "pretrain/corpus.h"

#include <iostream>
#include <sstream>
#include <stdexcept>

#include "io/atomic_file.h"
#include "io/files.h"

namespace rlhf {

namespace fs = std::filesystem;

namespace {

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << std::hex << v;
  return s.str();
}

}  // namespace

Corpus prepare_corpus(const CorpusConfig& config, const Tokenizer& tokenizer, const fs::path& tokenizer_dir,
                      const std::string& field) {
  if (config.val_fraction <= 0.0 || config.val_fraction >= 0.5)
    throw std::runtime_error(field.substr(0, field.rfind('.')) + ".val_fraction must be in (0, 0.5)");
  auto files = expand_files(config.files, field);
  const uint64_t hash = hash_files(files, hash_files({tokenizer_dir / "encoder.json", tokenizer_dir / "vocab.bpe"},
                                                     static_cast<uint64_t>(config.val_fraction * 1e6)));
  const fs::path base = fs::path(config.cache_dir) / hex(hash);
  const fs::path train_path = base.string() + ".train.tokens", val_path = base.string() + ".val.tokens";
  if (!fs::exists(train_path) || !fs::exists(val_path)) {
    fs::create_directories(config.cache_dir);
    std::vector<TokenId> train, val;
    for (const auto& file : files) {
      auto ids = tokenizer.encode(read_file(file));
      ids.push_back(tokenizer.eot_id());
      const size_t n_val = static_cast<size_t>(ids.size() * config.val_fraction);
      train.insert(train.end(), ids.begin(), ids.end() - n_val);
      val.insert(val.end(), ids.end() - n_val, ids.end());
      std::cerr << "corpus: tokenized " << file.string() << ": " << ids.size() << " tokens\n";
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
