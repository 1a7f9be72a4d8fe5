// Signs that PPO is hacking its reward model rather than aligning the policy, checked at every
// held-out measurement: the proxy (the reward model PPO optimises) rising while a judge it never
// optimised falls, mean response length leaving [0.5x, 2x] of the SFT policy's, and the policy's
// entropy collapsing. A warning names the iteration and the figures that raised it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rlhf {

inline constexpr double kMinLengthRatio = 0.5, kMaxLengthRatio = 2.0;
inline constexpr double kMinEntropyRatio = 0.25;  // of the first iteration's entropy
inline constexpr double kJudgeDropStandardErrors = 2.0;

class HackingAlarms {
 public:
  // `sft_held_out`: the held-out figures before any update ("score", "response_length", optionally
  // "judge_score"); `state`: what an earlier run of this loop kept (null when fresh).
  HackingAlarms(const nlohmann::json& sft_held_out, const nlohmann::json& state);

  // The warnings of one held-out measurement (empty when none), given the iteration's mean entropy.
  std::vector<std::string> check(int64_t iteration, const nlohmann::json& held_out, double entropy);
  // Every warning so far, and what resume needs.
  const std::vector<std::string>& raised() const { return raised_; }
  nlohmann::json state() const;

 private:
  nlohmann::json sft_;
  double first_entropy_ = -1.0;
  double best_judge_ = -1e300;
  int64_t best_judge_iteration_ = 0;
  std::vector<std::string> raised_;
};

}  // namespace rlhf
