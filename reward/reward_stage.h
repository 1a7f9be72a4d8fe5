// `rlhf reward`: train the reward model on ranked comparisons, evaluate it on held-out pairs against
// baselines, and normalise its scores on reference responses.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "reward/preference_data.h"
#include "reward/rankings.h"
#include "train/train_config.h"

namespace rlhf {

struct RewardNormalizeConfig {
  std::string mode = "bias";                 // "none", "bias" (mean 0, InstructGPT) or "gain_bias" (mean 0, std 1, Ziegler)
  std::vector<std::string> reference_files;  // demonstrations whose responses define the reference
  int64_t max_reference = 500;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RewardNormalizeConfig, mode, reference_files, max_reference)

struct RewardConfig {
  std::string init_from = "runs/quickstart/sft/best";
  PreferenceDataConfig data;
  RewardNormalizeConfig normalize;
  TrainConfig train;           // batch_size counts groups (one prompt's ranking), not sequences
  double margin_coef = 0.0;    // > 0 subtracts margin_coef * tier distance inside the sigmoid
  // -1: train every weight; N >= 0: freeze the embeddings and all but the last N transformer blocks
  // (the final layer norm and the reward head always train), which limits overfitting on few pairs
  int64_t unfrozen_layers = -1;
  std::string pooling = "last";  // reward head input: "last" (EOS hidden state, InstructGPT) or "mean" over the response
  std::string out_dir = "runs/quickstart/reward";
  RuntimeConfig runtime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RewardConfig, init_from, data, normalize, train, margin_coef,
                                                unfrozen_layers, pooling, out_dir, runtime)

// Accuracy with its 95% Wilson score interval.
struct Accuracy {
  double value = 0.0, low = 0.0, high = 0.0;
  int64_t n = 0;
};
Accuracy wilson_accuracy(double correct, int64_t n);

nlohmann::json run_reward(const RewardConfig& config, bool resume);

}  // namespace rlhf
