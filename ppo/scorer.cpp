#include "ppo/scorer.h"

#include <cctype>
#include <stdexcept>

#include "model/model_io.h"
#include "text/chat_format.h"

namespace rlhf {

namespace {

std::string normalize_word(const std::string& w) {
  const auto a = w.find_first_not_of(" \t\n"), b = w.find_last_not_of(" \t\n");
  std::string out = a == std::string::npos ? "" : w.substr(a, b - a + 1);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Scorer::Scorer(const PpoConfig& config, torch::Device device) {
  if (!config.reward_from.empty()) {
    auto checkpoint = load_any_checkpoint(config.reward_from);
    if (checkpoint.info.value("kind", "") != "reward")
      throw std::runtime_error("reward_from: " + config.reward_from + " is not a reward checkpoint (info.kind \"" +
                               checkpoint.info.value("kind", "") + "\")");
    if (!checkpoint.tokenizer) throw std::runtime_error("reward_from: " + config.reward_from + " has no tokenizer");
    reward_tokenizer_ = *checkpoint.tokenizer;
    reward_model_ = reward_model_from_checkpoint(checkpoint, device, config.reward_from);
    for (auto& p : reward_model_->parameters()) p.set_requires_grad(false);
    reward_checkpoint_ = std::move(checkpoint);
  }
  for (const auto& w : config.rule_reward.words) words_.insert(normalize_word(w));
}

torch::Tensor Scorer::score(const Rollout& r, const Tokenizer& policy_tokenizer) {
  std::vector<double> scores;
  if (!reward_model_.is_empty()) {
    // As text, so that a reward model with another tokenizer scores the same response.
    std::vector<std::pair<std::string, std::string>> items;
    for (int64_t b = 0; b < r.size(); ++b) items.emplace_back(r.prompts[b], format_response(r.responses[b]));
    scores = score_texts(reward_model_, *reward_tokenizer_, items);
  } else {
    for (const auto& tokens : r.response_tokens) {
      int64_t hits = 0, n = 0;
      for (TokenId t : tokens) {
        if (t == policy_tokenizer.eot_id()) continue;
        ++n;
        hits += static_cast<int64_t>(words_.count(normalize_word(policy_tokenizer.decode({t}))));
      }
      scores.push_back(n ? static_cast<double>(hits) / n : 0.0);
    }
  }
  return torch::tensor(scores, torch::kDouble).to(torch::kFloat);
}

}  // namespace rlhf
