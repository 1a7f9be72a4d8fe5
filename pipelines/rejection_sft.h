// `rlhf rejection-sft`: rejection-sampling fine-tuning (InstructGPT's FeedME, Llama 2's rejection
// sampling): n samples per prompt from the policy, the reward model's best of each kept as a
// demonstration, and supervised fine-tuning of the policy on those picks. No RL: the reward model
// only chooses, so the policy learns what best-of-n would have answered, at the cost of one sample.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "model/generate.h"
#include "sft/sft.h"

namespace rlhf {

struct RejectionSftConfig {
  std::string policy_from = "runs/quickstart/sft/best";    // samples and is fine-tuned
  std::string reward_from = "runs/quickstart/reward/best"; // picks
  std::vector<std::string> prompt_files;                   // any shape ppo/prompts.h reads
  int64_t max_prompts = 256;
  int64_t n = 4;                      // samples per prompt
  int64_t max_prompt_tokens = 64;     // the policy sees the prompt's last tokens; the reward model scores that text
  bool require_eos = true;            // a sample cut at max_new_tokens is no demonstration of a whole answer
  SamplingConfig sampling = [] {
    SamplingConfig s;
    s.max_new_tokens = 48;
    s.temperature = 1.0;
    return s;
  }();
  // The fine-tuning: init_from, data.files and out_dir are set by the stage (the picks, OUT); the
  // rest (steps, learning rate, eval_fraction) as for `rlhf sft`
  SftConfig sft;
  std::string out_dir = "runs/quickstart/rejection_sft";
  RuntimeConfig runtime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RejectionSftConfig, policy_from, reward_from, prompt_files, max_prompts, n,
                                                max_prompt_tokens, require_eos, sampling, sft, out_dir, runtime)

// Writes OUT/picks.jsonl ({"prompt", "response", "reward", "first_reward"}: the pick, its score and
// the score of the first sample, i.e. what plain sampling gets), then fine-tunes into OUT (best/,
// last/, metrics.jsonl). With resume an existing picks file is reused and the fine-tuning continues.
nlohmann::json run_rejection_sft(const RejectionSftConfig& config, bool resume);

}  // namespace rlhf
