// `rlhf pretrain`: a GPT trained from scratch (or continued from a checkpoint) on raw text.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "model/gpt_config.h"
#include "pretrain/corpus.h"
#include "text/tokenizer_source.h"
#include "train/train_config.h"

namespace rlhf {

struct PretrainConfig {
  GPTConfig model;                 // vocab_size is taken from the tokenizer
  TokenizerSource tokenizer;
  CorpusConfig data;
  TrainConfig train;
  int64_t eval_batches = 8;        // held-out windows: eval_batches x train.batch_size
  std::string init_from;           // continue from this checkpoint (native or HF); its architecture wins
  std::string out_dir = "runs/quickstart/pretrain";
  RuntimeConfig runtime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PretrainConfig, model, tokenizer, data, train, eval_batches, init_from,
                                                out_dir, runtime)

// Runs (or resumes) pretraining; returns summary.json's contents.
nlohmann::json run_pretrain(const PretrainConfig& config, bool resume);

// Cross-entropy (nats per token) of a unigram model fitted on `train` (add-one smoothing) on `val`:
// the baseline any language model must beat.
class TokenFile;
double unigram_loss(const TokenFile& train, const TokenFile& val, int64_t vocab_size);

}  // namespace rlhf
