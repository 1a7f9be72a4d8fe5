// What the training stages share: where the tokenizer and the starting model come from, the output
// directory, and the runtime (device, threads).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tokenizer.h"

namespace rlhf {

// Either an existing tokenizer directory, or train a byte-level BPE on files.
struct TokenizerSource {
  std::string dir;                      // encoder.json + vocab.bpe (e.g. data/tokenizer/gpt2)
  int64_t train_vocab_size = 0;         // > 0: train a tokenizer of this size on train_files
  std::vector<std::string> train_files;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TokenizerSource, dir, train_vocab_size, train_files)

struct RuntimeConfig {
  std::string device = "auto";
  int threads = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RuntimeConfig, device, threads)

// Expands directories to the regular files inside them (sorted); a missing path is an error naming it.
std::vector<std::filesystem::path> expand_files(const std::vector<std::string>& paths, const std::string& field);

// OUT/tokenizer when it exists (resume), else from the source (training and saving it to OUT/tokenizer).
Tokenizer resolve_tokenizer(const TokenizerSource& source, const std::filesystem::path& out_dir);

// Writes OUT/config.json (the resolved config) atomically.
void save_resolved_config(const std::filesystem::path& out_dir, const nlohmann::json& config);
void save_summary(const std::filesystem::path& out_dir, const nlohmann::json& summary);

// Hash of the contents of files (order matters), for caches keyed by their inputs.
uint64_t hash_files(const std::vector<std::filesystem::path>& files, uint64_t seed = 0);

}  // namespace rlhf
