#include "core/stage_common.h"

#include <algorithm>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/chat_format.h"

namespace rlhf {

namespace fs = std::filesystem;

std::vector<fs::path> expand_files(const std::vector<std::string>& paths, const std::string& field) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      std::vector<fs::path> inside;
      for (const auto& entry : fs::directory_iterator(p))
        if (entry.is_regular_file()) inside.push_back(entry.path());
      std::sort(inside.begin(), inside.end());
      out.insert(out.end(), inside.begin(), inside.end());
    } else if (fs::is_regular_file(p)) {
      out.emplace_back(p);
    } else {
      throw std::runtime_error(field + ": \"" + p + "\" does not exist");
    }
  }
  if (out.empty()) throw std::runtime_error(field + ": no input files");
  return out;
}

Tokenizer resolve_tokenizer(const TokenizerSource& source, const fs::path& out_dir) {
  const fs::path saved = out_dir / "tokenizer";
  if (fs::exists(saved / "encoder.json")) return Tokenizer::load(saved);
  Tokenizer tokenizer;
  if (source.train_vocab_size > 0) {
    BpeTrainOptions options;
    options.vocab_size = source.train_vocab_size;
    tokenizer = train_bpe(expand_files(source.train_files, "tokenizer.train_files"), options);
  } else if (!source.dir.empty()) {
    tokenizer = Tokenizer::load(source.dir);
  } else {
    throw std::runtime_error("tokenizer: set tokenizer.dir or tokenizer.train_vocab_size (or init_from a checkpoint)");
  }
  fs::create_directories(out_dir);
  tokenizer.save(saved);
  return tokenizer;
}

void save_resolved_config(const fs::path& out_dir, const nlohmann::json& config) {
  fs::create_directories(out_dir);
  write_file_atomic(out_dir / "config.json", config.dump(2) + "\n");
}

void save_summary(const fs::path& out_dir, const nlohmann::json& summary) {
  write_file_atomic(out_dir / "summary.json", summary.dump(2) + "\n");
}

uint64_t hash_files(const std::vector<fs::path>& files, uint64_t seed) {
  uint64_t h = seed;
  for (const auto& f : files) h = stable_hash(std::to_string(h) + read_file(f));
  return h;
}

}  // namespace rlhf
