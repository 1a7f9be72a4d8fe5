// Shared by the sft tests: a tiny tokenizer and model checkpoint built from shipped data.
#pragma once

#include <filesystem>
#include <fstream>

#include "core/model_io.h"
#include "core_test_util.h"

namespace rlhf::test {

inline const Tokenizer& constitution_tokenizer() {
  static const Tokenizer tokenizer = train_bpe({project_file("data/corpus/us_constitution.txt")}, {400, 2});
  return tokenizer;
}

// A seeded tiny GPT with the constitution tokenizer saved as a native checkpoint in DIR.
inline void write_tiny_checkpoint(const std::filesystem::path& dir, int64_t block_size = 96) {
  GPTConfig config = tiny_config();
  config.vocab_size = constitution_tokenizer().vocab_size();
  config.block_size = block_size;
  config.n_embd = 32;
  torch::manual_seed(0);
  GPT model(config);
  save_checkpoint(dir, make_checkpoint(model, constitution_tokenizer()));
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace rlhf::test
