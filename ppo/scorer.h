// What PPO maximises: the frozen reward model's normalised score of (prompt, response), or a
// transparent programmatic rule (the fraction of response tokens that are target words).
#pragma once

#include <optional>
#include <set>
#include <string>

#include <torch/torch.h>

#include "model/checkpoint.h"
#include "ppo/ppo_config.h"
#include "ppo/rollout.h"
#include "reward/reward_model.h"
#include "text/tokenizer.h"

namespace rlhf {

class Scorer {
 public:
  Scorer(const PpoConfig& config, torch::Device device);
  // (B) float scores of the rollout's responses; the rule needs the policy's tokenizer.
  torch::Tensor score(const Rollout& rollout, const Tokenizer& policy_tokenizer);

  const Checkpoint* reward_checkpoint() const { return reward_checkpoint_ ? &*reward_checkpoint_ : nullptr; }
  RewardModel& reward_model() { return reward_model_; }  // empty with the rule

 private:
  std::optional<Checkpoint> reward_checkpoint_;
  std::optional<Tokenizer> reward_tokenizer_;
  RewardModel reward_model_{nullptr};
  std::set<std::string> words_;
};

}  // namespace rlhf
