// `rlhf sft`: supervised fine-tuning on demonstrations; the loss is on response tokens only, with
// an optional GPT-1 style auxiliary LM loss on the prompt (L = L_response + lm_coef * L_prompt).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "model/gpt.h"
#include "text/demonstrations.h"
#include "train/train_config.h"

namespace rlhf {

struct SftDataConfig {
  std::vector<std::string> files;  // JSONL demonstrations (see demonstrations.h for the shapes)
  // Files or folders whose HH lines give only their SFT split (text/data_split.h); others are used whole
  std::vector<std::string> hash_split_files = kShippedHashSplitFiles;
  double eval_fraction = 0.1;      // held out by a stable hash of each example
  int64_t max_examples = 0;        // 0: all
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SftDataConfig, files, hash_split_files, eval_fraction, max_examples)

struct SftConfig {
  std::string init_from = "runs/quickstart/pretrain/best";  // native checkpoint or HF GPT-2 directory
  SftDataConfig data;
  TrainConfig train;
  double lm_coef = 0.0;            // weight of the prompt LM loss (GPT-1's lambda); 0: response only
  double dropout = -1.0;           // >= 0 overrides the checkpoint's dropout for fine-tuning
  std::string out_dir = "runs/quickstart/sft";
  RuntimeConfig runtime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SftConfig, init_from, data, train, lm_coef, dropout, out_dir, runtime)

// A right-padded batch: inputs are ids[:-1], targets ids[1:]; masks mark which targets are response
// (incl. EOS) and which are prompt tokens. Padding is in neither mask.
struct SftBatch {
  torch::Tensor input;          // (B, L) int64
  torch::Tensor target;         // (B, L) int64, 0 at padding
  torch::Tensor response_mask;  // (B, L) float
  torch::Tensor prompt_mask;    // (B, L) float
  int64_t response_tokens = 0, prompt_tokens = 0;
};
SftBatch make_sft_batch(const std::vector<const TokenizedExample*>& examples);

// Sum of per-token cross-entropy over response targets / response_norm, plus lm_coef times the same
// over prompt targets / prompt_norm. With the norms equal to the step's token counts, the shares of
// all micro-batches add up to the step's mean loss.
torch::Tensor sft_loss(GPT& model, const SftBatch& batch, double response_norm, double prompt_norm, double lm_coef);

nlohmann::json run_sft(const SftConfig& config, bool resume);

}  // namespace rlhf
