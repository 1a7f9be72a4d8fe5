#include "pipelines/rejection_sft.h"

#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "dist/runtime.h"
#include "eval/best_of_n.h"
#include "io/atomic_file.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "model/model_io.h"
#include "ppo/prompts.h"
#include "ppo/rollout.h"
#include "reward/reward_model.h"
#include "text/chat_format.h"
#include "text/utf8.h"
#include "train/seed.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Picks {
  std::string jsonl;
  int64_t prompts = 0, kept = 0;
  double reward_sum = 0.0, first_reward_sum = 0.0;
};

// n samples of every prompt, scored; the best eligible one of each kept.
Picks pick_best(const RejectionSftConfig& config, torch::Device device) {
  auto checkpoint = load_init_checkpoint(config.policy_from);
  const Tokenizer& tokenizer = *checkpoint.tokenizer;
  GPT policy = build_gpt(checkpoint, device, config.policy_from);
  auto reward_checkpoint = load_checkpoint(config.reward_from);
  if (reward_checkpoint.info.value("kind", "") != "reward")
    throw std::runtime_error("reward_from: " + config.reward_from + " is not a reward model checkpoint");
  RewardModel reward = reward_model_from_checkpoint(reward_checkpoint, device, config.reward_from);
  reward->eval();

  std::vector<std::string> prompts;
  // Never the prompts of the reward model's held-out split: the picks would be trained on them.
  for (const auto& file : expand_files(config.prompt_files, "prompt_files")) load_prompts(file, true, prompts);
  if (static_cast<int64_t>(prompts.size()) > config.max_prompts) prompts.resize(config.max_prompts);
  if (prompts.empty()) throw std::runtime_error("prompt_files: no prompts");
  const int64_t room = std::min(config.max_prompt_tokens, checkpoint.model.block_size - config.sampling.max_new_tokens);
  if (room < 1) throw std::runtime_error("sampling.max_new_tokens: leaves no room for a prompt");

  // Prompt-major: each prompt's n samples side by side.
  std::vector<std::string> texts;
  std::vector<std::vector<TokenId>> ids;
  for (const auto& p : prompts) {
    const PolicyPrompt seen = policy_prompt(p, tokenizer, room);
    for (int64_t k = 0; k < config.n; ++k) {
      texts.push_back(seen.text);
      ids.push_back(seen.ids);
    }
  }
  std::cerr << "rejection_sft: " << config.n << " samples of " << prompts.size() << " prompts from " << config.policy_from
            << "\n";
  SamplingConfig sampling = config.sampling;
  sampling.seed = step_seed(config.sampling.seed, 0, 13);
  const Rollout rollout = sample_rollout(policy, texts, ids, sampling, tokenizer, 16);
  std::vector<std::pair<std::string, std::string>> items;
  for (int64_t i = 0; i < rollout.size(); ++i) items.emplace_back(texts[i], format_response(rollout.responses[i]));
  std::vector<double> scores = score_texts(reward, *reward_checkpoint.tokenizer, items);
  std::vector<double> eligible = scores;
  for (int64_t i = 0; i < rollout.size(); ++i)
    if ((config.require_eos && !rollout.finished[i]) || rollout.responses[i].find_first_not_of(" \n") == std::string::npos)
      eligible[i] = -INFINITY;
  const auto best = best_of_each(eligible, config.n);

  Picks picks;
  picks.prompts = static_cast<int64_t>(prompts.size());
  for (size_t p = 0; p < prompts.size(); ++p) {
    const int64_t i = static_cast<int64_t>(p) * config.n + best[p];
    if (eligible[i] == -INFINITY) continue;  // no sample of this prompt qualifies
    // The whole prompt: SFT fits it to the context itself (the reward model scored the part the policy saw).
    picks.jsonl += json{{"prompt", prompts[p]}, {"response", valid_utf8(rollout.responses[i])}, {"reward", scores[i]},
                        {"first_reward", scores[p * config.n]}}.dump() + "\n";
    ++picks.kept;
    picks.reward_sum += scores[i];
    picks.first_reward_sum += scores[p * config.n];
  }
  if (picks.kept == 0)
    throw std::runtime_error("require_eos: no prompt has a sample that ended with EOS (raise sampling.max_new_tokens)");
  return picks;
}

}  // namespace

json run_rejection_sft(const RejectionSftConfig& config, bool resume) {
  if (config.n < 1) throw std::runtime_error("n: must be >= 1");
  const fs::path out(config.out_dir);
  const fs::path picks_file = out / "picks.jsonl";
  const auto device = apply_runtime(config.runtime.device, config.runtime.threads);
  json picks_summary;
  if (resume && fs::exists(picks_file)) {
    std::cerr << "rejection_sft: reusing " << picks_file.string() << "\n";
    picks_summary = read_json_file(out / "picks.summary.json");
  } else {
    const Picks picks = pick_best(config, device);
    fs::create_directories(out);
    picks_summary = {{"prompts", picks.prompts},
                     {"kept", picks.kept},
                     {"n", config.n},
                     {"pick_reward_mean", picks.reward_sum / picks.kept},
                     {"first_sample_reward_mean", picks.first_reward_sum / picks.kept}};
    // The summary first: resume takes an existing picks file as complete and reads the summary beside it.
    write_file_atomic(out / "picks.summary.json", picks_summary.dump(2) + "\n");
    write_file_atomic(picks_file, picks.jsonl);
    std::cerr << "rejection_sft: kept " << picks.kept << " of " << picks.prompts << " prompts; mean reward of the picks "
              << picks_summary["pick_reward_mean"].get<double>() << " vs one sample "
              << picks_summary["first_sample_reward_mean"].get<double>() << "\n";
  }
  SftConfig sft = config.sft;
  sft.init_from = config.policy_from;
  sft.data.files = {picks_file.string()};
  sft.data.hash_split_files.clear();  // the picks are used whole
  sft.out_dir = out.string();
  sft.runtime = config.runtime;
  json summary = run_sft(sft, resume && fs::exists(out / "last"));
  summary["picks"] = picks_summary;
  save_summary(out, summary);
  return summary;
}

}  // namespace rlhf
