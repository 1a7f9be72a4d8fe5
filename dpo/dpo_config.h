// `rlhf dpo`'s configuration: the policy to start from, its frozen reference, the comparisons (read
// as the reward stage reads them) and the loss. Defaults follow the DPO paper and TRL.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "reward/preference_data.h"
#include "train/train_config.h"

namespace rlhf {

struct DpoConfig {
  std::string init_from = "runs/quickstart/sft/best";  // the policy DPO starts from (native or HF GPT-2)
  std::string reference_from;  // the frozen reference; "" is init_from (the SFT policy, as in the paper)
  PreferenceDataConfig data;   // K-wise rankings count as all their ordered pairs
  std::string loss = "sigmoid";  // "sigmoid" (DPO) or "ipo" (dpo/dpo_loss.h)
  double beta = 0.1;             // the DPO paper's and TRL's default
  double label_smoothing = 0.0;  // cDPO's assumed rate of flipped labels, in [0, 0.5); sigmoid only
  // >= 0 overrides the checkpoint's dropout; 0 (TRL's default too) makes the policy's first
  // forward equal the reference's, so training starts at h = 0
  double dropout = 0.0;
  // A reward checkpoint measured on the same held-out pairs, so the summary shows whether DPO's
  // implicit reward ranks them better than the reward model does ("" skips it)
  std::string compare_reward_from;
  TrainConfig train = [] {       // batch_size counts pairs
    TrainConfig t;
    t.lr = 1e-5;
    t.min_lr = 1e-6;
    t.warmup_steps = 10;
    t.weight_decay = 0.0;
    t.max_steps = 200;
    t.eval_every = 25;
    return t;
  }();
  std::string out_dir = "runs/quickstart/dpo";
  RuntimeConfig runtime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DpoConfig, init_from, reference_from, data, loss, beta, label_smoothing,
                                                dropout, compare_reward_from, train, out_dir, runtime)

// Rejects out-of-range settings with a message naming the field.
void check_dpo_config(const DpoConfig& config);

}  // namespace rlhf
