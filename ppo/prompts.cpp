#include "ppo/prompts.h"

#include <iostream>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "io/files.h"
#include "io/jsonl.h"
#include "io/stable_hash.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "text/demonstrations.h"

namespace rlhf {

using nlohmann::json;

namespace {

// The conversation before its last assistant reply, or the whole transcript (plus the assistant
// tag) when it ends with a human turn.
std::string prompt_of_transcript(const std::string& transcript) {
  const auto last_human = transcript.rfind(kHumanTag);
  const auto last_assistant = transcript.rfind(kAssistantTag);
  if (last_assistant == std::string::npos || (last_human != std::string::npos && last_human > last_assistant))
    return transcript + std::string(kAssistantTag);
  return split_last_assistant_turn(transcript)->prompt;
}

std::vector<std::string> prompts_of_line(const json& line, const std::string& where) {
  if (line.contains("prompt")) return {as_chat_prompt(required_string(line, "prompt", where))};
  if (line.contains("conversation")) return {prompt_of_transcript(conversation_transcript(line["conversation"], where))};
  if (line.contains("chosen")) {
    auto split = split_last_assistant_turn(required_string(line, "chosen", where));
    if (!split) throw std::runtime_error(where + ": field \"chosen\" has no \"\\n\\nAssistant:\" turn");
    return {split->prompt};
  }
  if (line.contains("instruction") && line.contains("instances")) {
    const auto instruction = required_string(line, "instruction", where);
    if (!line["instances"].is_array()) throw std::runtime_error(where + ": field \"instances\" must be an array");
    std::vector<std::string> out;
    for (const auto& instance : line["instances"]) {
      const auto input = instance.is_object() && instance.contains("input") ? required_string(instance, "input", where) : "";
      out.push_back(format_prompt(input.empty() ? instruction : instruction + "\n\n" + input));
    }
    return out;
  }
  if (line.contains("instruction")) return {format_prompt(required_string(line, "instruction", where))};
  if (line.contains("turns")) {
    if (!line["turns"].is_array() || line["turns"].empty() || !line["turns"][0].is_string())
      throw std::runtime_error(where + ": field \"turns\" must be a non-empty array of strings");
    return {format_prompt(line["turns"][0].get<std::string>())};
  }
  throw std::runtime_error(where + ": expected \"prompt\", \"conversation\", \"chosen\", \"instruction\" or \"turns\"");
}

}  // namespace

PromptFileStats load_prompts(const std::filesystem::path& file, bool exclude_reward_eval, std::vector<std::string>& prompts) {
  PromptFileStats stats;
  std::unordered_set<std::string> seen(prompts.begin(), prompts.end());
  for_each_json_line(file, [&](const json& line, const std::string& where) {
    for (auto& prompt : prompts_of_line(line, where)) {
      if (exclude_reward_eval && data_split_of(prompt) == DataSplit::kRewardEval) {
        ++stats.skipped_reward_eval;
      } else if (!seen.insert(prompt).second) {
        ++stats.duplicates;
      } else {
        prompts.push_back(std::move(prompt));
        ++stats.prompts;
      }
    }
  });
  return stats;
}

PolicyPrompt policy_prompt(const std::string& prompt, const Tokenizer& tokenizer, int64_t max_tokens) {
  PolicyPrompt p{prompt, tokenizer.encode(prompt)};
  if (static_cast<int64_t>(p.ids.size()) <= max_tokens) return p;
  p.ids.erase(p.ids.begin(), p.ids.end() - max_tokens);
  // A cut inside a multi-byte character would make the scored text start with a stray byte: the
  // policy starts at the next whole character instead.
  auto starts_mid_character = [&](TokenId id) {
    const std::string bytes = tokenizer.decode_token(id);
    return !bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0xC0) == 0x80;
  };
  while (p.ids.size() > 1 && starts_mid_character(p.ids.front())) p.ids.erase(p.ids.begin());
  p.text = tokenizer.decode(p.ids);
  return p;
}

PromptPool load_prompt_pool(const PpoDataConfig& data) {
  PromptPool pool;
  std::vector<std::string> all;
  for (const auto& file : expand_files(data.prompt_files, "data.prompt_files")) {
    auto stats = load_prompts(file, data.exclude_reward_eval, all);
    std::cerr << "ppo: " << file.string() << ": " << stats.prompts << " prompts";
    if (stats.skipped_reward_eval) std::cerr << ", " << stats.skipped_reward_eval << " of the reward-eval split skipped";
    if (stats.duplicates) std::cerr << ", " << stats.duplicates << " duplicates";
    std::cerr << "\n";
  }
  if (data.eval_prompt_files.empty()) {
    // Held out by a hash salted differently from the data splits, so it cuts across them.
    for (auto& p : all)
      (stable_hash("ppo-eval:" + p) % 100 < static_cast<uint64_t>(data.eval_percent) ? pool.eval : pool.train)
          .push_back(std::move(p));
  } else {
    pool.train = std::move(all);
    std::vector<std::string> eval;
    for (const auto& file : expand_files(data.eval_prompt_files, "data.eval_prompt_files"))
      load_prompts(file, data.exclude_reward_eval, eval);
    std::set<std::string> train_set(pool.train.begin(), pool.train.end());
    for (auto& p : eval)
      if (!train_set.count(p)) pool.eval.push_back(std::move(p));
  }
  if (static_cast<int64_t>(pool.eval.size()) > data.max_eval_prompts) pool.eval.resize(data.max_eval_prompts);
  if (pool.train.empty()) throw std::runtime_error("data.prompt_files: no training prompts");
  if (pool.eval.empty()) throw std::runtime_error("data: no held-out prompts (eval_prompt_files or eval_percent)");
  return pool;
}

}  // namespace rlhf
