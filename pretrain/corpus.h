// A raw-text corpus as token files: tokenized once (documents separated by <|endoftext|>), the tail
// of every document held out, cached by the hash of the files and the tokenizer. Pretraining reads
// it, and so does PPO-ptx (the pretraining loss mixed into PPO updates).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "pretrain/token_file.h"
#include "text/tokenizer.h"

namespace rlhf {

struct CorpusConfig {
  std::vector<std::string> files;  // text files or directories of them; each file is one document
  double val_fraction = 0.05;      // the tail of every document is held out
  std::string cache_dir = "runs/cache";
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CorpusConfig, files, val_fraction, cache_dir)

struct Corpus {
  TokenFile train, val;
};

// `field` names the config field in errors (e.g. "data.files").
Corpus prepare_corpus(const CorpusConfig& config, const Tokenizer& tokenizer, const std::filesystem::path& tokenizer_dir,
                      const std::string& field = "data.files");

// (B, T) inputs and next-token targets from windows starting at `starts`.
std::pair<torch::Tensor, torch::Tensor> windows(const TokenFile& tokens, const std::vector<int64_t>& starts, int64_t T);

}  // namespace rlhf
