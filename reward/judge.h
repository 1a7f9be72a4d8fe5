// A judge scores (prompt, response) texts with a model that the policy being judged never
// optimised: another reward checkpoint, or a bag-of-words model (reward/bag_of_words.h, which the
// reward stage writes beside its model). The training reward model's own score is the proxy.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "reward/bag_of_words.h"
#include "reward/reward_model.h"
#include "text/tokenizer.h"

namespace rlhf {

class Judge {
 public:
  // `path`: a reward checkpoint directory or a bag-of-words JSON file; errors name `field` and the path.
  Judge(const std::string& path, torch::Device device, const std::string& field);
  // One score per (chat prompt, response) pair.
  std::vector<double> score(const std::vector<std::pair<std::string, std::string>>& items);
  const std::string& kind() const { return kind_; }  // "reward_model" or "bag_of_words"
  const std::string& path() const { return path_; }

 private:
  std::string path_, kind_;
  std::optional<BagOfWords> bag_of_words_;
  std::optional<Tokenizer> tokenizer_;
  RewardModel reward_model_{nullptr};
};

}  // namespace rlhf
