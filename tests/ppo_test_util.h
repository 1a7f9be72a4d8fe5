// Shared by the PPO tests: a tiny SFT-like policy, a reward checkpoint on the same trunk, prompts,
// and a small config that runs in seconds on a CPU.
#pragma once

#include "ppo/ppo_config.h"
#include "reward/reward_model.h"
#include "sft_test_util.h"

namespace rlhf::test {

inline void write_tiny_reward_checkpoint(const std::filesystem::path& policy_dir, const std::filesystem::path& dir) {
  auto base = load_checkpoint(policy_dir);
  torch::manual_seed(3);
  auto model = reward_model_from_checkpoint(base, torch::kCPU, policy_dir.string());
  model->normalization = {0.5, -0.25};
  save_checkpoint(dir, reward_checkpoint(model, *base.tokenizer, {}));
}

inline void write_prompts(const std::filesystem::path& path, int n, const std::string& topic = "law") {
  std::string text;
  for (int i = 0; i < n; ++i)
    text += "{\"prompt\": \"Tell me about the " + topic + " number " + std::to_string(i) + " of the Congress.\"}\n";
  write_text(path, text);
}

// policy in DIR/sft, reward model in DIR/rm, prompts in DIR/prompts.jsonl and DIR/eval.jsonl.
inline PpoConfig tiny_ppo_config(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "sft")) {
    write_tiny_checkpoint(dir / "sft", 64);
    write_tiny_reward_checkpoint(dir / "sft", dir / "rm");
    write_prompts(dir / "prompts.jsonl", 24);
    write_prompts(dir / "eval.jsonl", 6, "court");
  }
  PpoConfig c;
  c.policy_from = (dir / "sft").string();
  c.reward_from = (dir / "rm").string();
  c.data.prompt_files = {(dir / "prompts.jsonl").string()};
  c.data.eval_prompt_files = {(dir / "eval.jsonl").string()};
  c.data.exclude_reward_eval = false;
  c.data.max_prompt_tokens = 24;
  c.sampling.max_new_tokens = 8;
  c.iterations = 4;
  c.rollout_size = 8;
  c.minibatch_size = 4;
  c.ppo_epochs = 2;
  c.lr = 1e-3;
  c.eval_every = 2;
  c.out_dir = (dir / "ppo").string();
  c.runtime.device = "cpu";
  return c;
}

}  // namespace rlhf::test
