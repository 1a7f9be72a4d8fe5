// `rlhf eval`: compares policies (base, SFT, PPO, ...) on held-out data and writes OUT/eval.json and a
// self-contained OUT/report.html.
//   helpful   win rate against the reference policy, judged by the reward model, with 95% intervals;
//             plus a blind A/B batch put into a labeling database, and the human win rate once
//             people have ranked it
//   honest    TruthfulQA MC1 and MC2 by answer log-likelihood, zero-shot and few-shot
//   harmless  how often the policy gives the chosen HH-RLHF response (held-out split) a higher
//             likelihood than the rejected one; Anthropic A/B questions answered the more-HHH way;
//             the reward model's own held-out accuracy
//   costs     KL from the reference on its own samples, held-out pretraining perplexity (the
//             alignment tax), response length
#pragma once

#include <nlohmann/json.hpp>

#include "eval/eval_config.h"

namespace rlhf {

nlohmann::json run_eval(const EvalConfig& config);

}  // namespace rlhf
