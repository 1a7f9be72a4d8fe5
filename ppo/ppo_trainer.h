// One PPO iteration at a time (TRL's ppo_trainer phases): rollout, scoring and KL-shaped rewards,
// GAE, then ppo_epochs of clipped updates over shuffled minibatches. The stage (ppo_stage.cpp) adds
// metrics, samples, checkpoints and resume around it. RLOO and GRPO (config.algorithm) run the same
// phases with k samples per prompt, group advantages in place of GAE and no value model.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dist/distributed.h"
#include "model/checkpoint.h"
#include "model/gpt.h"
#include "model/precision.h"
#include "ppo/kl.h"
#include "ppo/policy_value.h"
#include "ppo/ppo_config.h"
#include "ppo/prompts.h"
#include "ppo/rollout.h"
#include "ppo/scorer.h"
#include "reward/judge.h"
#include "pretrain/corpus.h"
#include "text/tokenizer.h"

namespace rlhf {

struct IterationResult {
  nlohmann::json metrics;  // one metrics.jsonl line (without "step")
  nlohmann::json samples;  // [{prompt, response, score, kl}] for the first samples_per_table responses
};

class PpoTrainer {
 public:
  // Loads the SFT policy (trained copy and frozen reference), the frozen scorer, the value function
  // and the prompts. With `resume_from` (a PPO checkpoint) the policy and value come from it.
  PpoTrainer(const PpoConfig& config, const std::filesystem::path& out_dir, const Checkpoint* resume_from);

  IterationResult run_iteration(int64_t iteration);
  // Mean score (and KL from the reference, length) of fresh samples on the held-out prompts, with
  // the same sampling seed each time so that successive calls compare like with like.
  nlohmann::json held_out_score();
  Checkpoint checkpoint() const;  // policy + value (policy alone for rloo/grpo), no trainer state

  // score_scale "sft_std": 1 / the score std of `held_out_first` (held_out_score() before any
  // update). The value head, started in the reward model's units, is scaled with the scores so that
  // it still predicts the returns. Returns the scale; "none" returns 1 and changes nothing.
  double start_score_scale(const nlohmann::json& held_out_first);
  // On resume: the saved scale (the value head in the checkpoint is already in its units).
  void set_score_scale(double scale) { score_scale_ = scale; }
  double score_scale() const { return score_scale_; }

  PolicyValue& model() { return model_; }
  GPT& reference() { return reference_; }
  Scorer& scorer() { return *scorer_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  KlController& kl_controller() { return kl_controller_; }
  const Precision& precision() const { return precision_; }
  const PromptPool& prompts() const { return prompts_; }

 private:
  struct UpdateStats;  // the per-minibatch figures of update()

  // The phases of run_iteration: this rank's rollout for the iteration's prompts, then ppo_epochs of
  // clipped updates on it.
  Rollout sample_iteration_rollout(int64_t iteration);
  UpdateStats update(const Rollout& r, int64_t iteration, double beta);
  PolicyPrompt policy_prompt_of(const std::string& prompt) const;
  uint64_t sampling_seed(int64_t iteration, uint64_t stream) const;
  torch::Tensor ptx_loss(int64_t iteration, int64_t minibatch);

  PpoConfig config_;
  torch::Device device_;
  Precision precision_;  // one choice for rollouts, scoring and training
  Distributed& dist_;  // data parallel: this rank's share of every rollout (dist/distributed.h)
  std::optional<Tokenizer> tokenizer_;
  int64_t block_size_ = 0;
  int64_t max_prompt_tokens_ = 0;
  GPT reference_{nullptr};
  std::unique_ptr<Scorer> scorer_;
  std::unique_ptr<Judge> judge_;  // none without judge_from
  PolicyValue model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  KlController kl_controller_;
  PromptPool prompts_;
  std::optional<Corpus> ptx_;
  double score_scale_ = 1.0;
};

// algorithm rloo or grpo: group advantages, no value model.
bool critic_free(const PpoConfig& config);

// Rejects out-of-range settings with a message naming the field.
void check_ppo_config(const PpoConfig& config);

// The policy's learning rate in iteration `iteration` (0-based): warmup, then lr_schedule. A
// function of the iteration alone, so that a resumed run sets the same rate as an uninterrupted one.
double ppo_learning_rate(const PpoConfig& config, int64_t iteration);

}  // namespace rlhf
