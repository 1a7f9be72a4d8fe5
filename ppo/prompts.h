// Prompts for PPO rollouts and evaluation, read from JSONL (optionally .gz), one per line in any of
// these shapes (detected per line), always returned in the chat format ending with "\n\nAssistant:":
//   {"prompt": "..."} (+ anything, e.g. "response")   wrapped in the chat template unless it already is
//   {"conversation": transcript or [{"role","content"}]}   up to its last human turn
//   {"chosen": transcript, "rejected": ...}          HH-RLHF: the conversation before the last reply
//   {"instruction", "instances": [{"input"}]}        self-instruct: one prompt per instance
//   {"turns": ["...", ...]}                          MT-Bench / Vicuna-bench: the first turn
// (A labeling database is exported to {"prompt"} lines by `rlhf ppo` first.)
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ppo/ppo_config.h"
#include "text/tokenizer.h"

namespace rlhf {

struct PromptFileStats {
  int64_t prompts = 0;
  int64_t duplicates = 0;             // same prompt text seen before (in any file)
  int64_t skipped_reward_eval = 0;    // reserved for the reward model's held-out evaluation
};

// Appends the file's prompts to `prompts` (deduplicated against what is already there). With
// exclude_reward_eval, prompts of the reward-eval split (data_split_of) are skipped, so PPO never
// trains on the prompts that measure the reward model. Errors name the file, line and field.
PromptFileStats load_prompts(const std::filesystem::path& file, bool exclude_reward_eval, std::vector<std::string>& prompts);

// PPO's training prompts and its held-out prompts (data.eval_prompt_files, or data.eval_percent of
// the training files by a stable hash salted apart from the data splits); reports counts on stderr.
struct PromptPool {
  std::vector<std::string> train, eval;
};
PromptPool load_prompt_pool(const PpoDataConfig& data);

// A prompt as the policy sees it: at most max_tokens of its last tokens, and the text they decode
// to. The reward model and the judge score that text, so that they judge a response against the
// context the policy and the value were conditioned on, not a longer one (TRL scores the same
// query tokens). A prompt that fits is kept as it is.
struct PolicyPrompt {
  std::string text;
  std::vector<TokenId> ids;
};
PolicyPrompt policy_prompt(const std::string& prompt, const Tokenizer& tokenizer, int64_t max_tokens);

}  // namespace rlhf
