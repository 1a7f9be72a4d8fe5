// Byte-level BPE training on the documents of text and JSONL files (text/documents.h): 256 byte
// tokens, then the most frequent adjacent pair merged repeatedly (within pre-tokenizer words) until
// vocab_size - 1 tokens, then <|endoftext|> last.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "text/data_split.h"
#include "text/tokenizer.h"

namespace rlhf {

struct BpeTrainOptions {
  int64_t vocab_size = 4096;
  int64_t min_pair_count = 2;  // stop early when no pair occurs this often
  std::vector<std::string> hash_split_files = kShippedHashSplitFiles;  // their reserved documents are skipped
};
Tokenizer train_bpe(const std::vector<std::filesystem::path>& files, const BpeTrainOptions& options);

}  // namespace rlhf
