// `rlhf ppo`: the third step of InstructGPT. Each iteration samples responses from the policy, scores
// them with the frozen reward model, penalises the per-token KL from the frozen SFT policy, and runs
// clipped PPO updates on the policy and value function (optionally with the pretraining loss mixed
// in, PPO-ptx). With algorithm rloo or grpo it samples k responses per prompt and updates the policy
// alone on group advantages. Writes OUT/metrics.jsonl, OUT/samples/, OUT/last (policy + value, or
// the policy alone; resumable) and OUT/summary.json.
#pragma once

#include <nlohmann/json.hpp>

#include "ppo/ppo_config.h"

namespace rlhf {

nlohmann::json run_ppo(const PpoConfig& config, bool resume);

}  // namespace rlhf
