// Where a stage's tokenizer comes from: an existing tokenizer directory, or a byte-level BPE trained
// on files. The stage saves it to OUT/tokenizer, which a resumed run reads back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace rlhf {

struct TokenizerSource {
  std::string dir;                      // encoder.json + vocab.bpe (e.g. data/tokenizer/gpt2)
  int64_t train_vocab_size = 0;         // > 0: train a tokenizer of this size on train_files
  std::vector<std::string> train_files;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TokenizerSource, dir, train_vocab_size, train_files)

// OUT/tokenizer when it exists (resume), else from the source (training and saving it to OUT/tokenizer).
Tokenizer resolve_tokenizer(const TokenizerSource& source, const std::filesystem::path& out_dir);

}  // namespace rlhf
