// A corpus as token files: the documents of text and JSONL files (text/documents.h) tokenized once,
// separated by <|endoftext|>, cached by the hash of the files, the split and the tokenizer. Held out:
// the tail of every whole-file document, a stable-hash share of the one-per-line documents (whole
// conversations), and every document the shared split reserves for evaluation. Pretraining reads
// it, and so does PPO-ptx (the pretraining loss mixed into PPO updates).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "pretrain/token_file.h"
#include "text/data_split.h"
#include "text/tokenizer.h"

namespace rlhf {

struct CorpusConfig {
  std::vector<std::string> files;  // text or JSONL files, or directories of them
  double val_fraction = 0.05;      // the share of every file held out
  std::vector<std::string> hash_split_files = kShippedHashSplitFiles;  // HH files whose eval split is reserved
  std::string cache_dir = "runs/cache";
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CorpusConfig, files, val_fraction, hash_split_files, cache_dir)

struct Corpus {
  TokenFile train, val;
};

// `field` names the config field in errors (e.g. "data.files").
Corpus prepare_corpus(const CorpusConfig& config, const Tokenizer& tokenizer, const std::filesystem::path& tokenizer_dir,
                      const std::string& field = "data.files");

// (B, T) inputs and next-token targets from windows starting at `starts`.
std::pair<torch::Tensor, torch::Tensor> windows(const TokenFile& tokens, const std::vector<int64_t>& starts, int64_t T);

}  // namespace rlhf
