// `rlhf dpo`: direct preference optimisation of a policy on ranked comparisons, against a frozen
// reference whose log-probs are computed once (and cached in OUT for resume). The summary reports
// the implicit reward's held-out pair accuracy beside the bag-of-words and length bars, and beside a
// reward model's when compare_reward_from names one.
#pragma once

#include <nlohmann/json.hpp>

#include "dpo/dpo_config.h"

namespace rlhf {

nlohmann::json run_dpo(const DpoConfig& config, bool resume);

}  // namespace rlhf
