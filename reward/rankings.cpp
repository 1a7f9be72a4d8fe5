#include "reward/rankings.h"

#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "io/jsonl.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "text/demonstrations.h"

namespace rlhf {

using nlohmann::json;

std::vector<RankedPair> pairs_from_tiers(const std::vector<std::vector<int>>& tiers) {
  std::vector<RankedPair> pairs;
  for (size_t i = 0; i < tiers.size(); ++i)
    for (size_t j = i + 1; j < tiers.size(); ++j)
      for (int w : tiers[i])
        for (int l : tiers[j]) pairs.push_back({w, l, static_cast<double>(j - i)});
  return pairs;
}

torch::Tensor ranking_loss(const std::vector<const RankingGroup*>& groups, const torch::Tensor& rewards,
                           double margin_coef) {
  std::vector<int64_t> winners, losers, group_of;
  std::vector<double> margins, pair_weight;
  int64_t offset = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& group = *groups[g];
    for (const auto& p : group.pairs) {
      winners.push_back(offset + p.winner);
      losers.push_back(offset + p.loser);
      margins.push_back(margin_coef * p.margin);
      pair_weight.push_back(1.0 / static_cast<double>(group.pairs.size() * groups.size()));
    }
    offset += static_cast<int64_t>(group.responses.size());
  }
  TORCH_CHECK(offset == rewards.size(0), "ranking_loss: ", rewards.size(0), " rewards for ", offset, " responses");
  auto device = rewards.device();
  auto w = torch::tensor(winners, torch::kLong).to(device), l = torch::tensor(losers, torch::kLong).to(device);
  auto as_rewards = [&](const std::vector<double>& v) { return torch::tensor(v, torch::kDouble).to(rewards.options()); };
  auto diff = rewards.index_select(0, w) - rewards.index_select(0, l) - as_rewards(margins);  // (P)
  return -(torch::nn::functional::logsigmoid(diff) * as_rewards(pair_weight)).sum();
}

namespace {

// The prompt as every other stage sees it: a bare message goes into the chat template.
std::string chat_prompt(const json& line, const std::string& where, RankingSourceStats& stats) {
  auto prompt = required_string(line, "prompt", where);
  auto formatted = as_chat_prompt(prompt);
  if (formatted != prompt) ++stats.wrapped_prompts;
  return formatted;
}

RankingGroup from_export_ranking(const json& line, const std::string& where, RankingSourceStats& stats) {
  RankingGroup group;
  group.prompt = chat_prompt(line, where, stats);
  group.kind = line.value("kind", "general");
  group.group_id = line.contains("submission_id") ? line.value("prompt_id", "") + "#" + line["submission_id"].dump()
                                                   : where;
  std::map<std::string, int> index;
  if (!line.contains("responses") || !line["responses"].is_array())
    throw std::runtime_error(where + ": field \"responses\" must be an array");
  for (const auto& r : line["responses"]) {
    auto id = r.contains("id") && r["id"].is_string() ? r["id"].get<std::string>() : r.value("id", json()).dump();
    index[id] = static_cast<int>(group.responses.size());
    group.responses.push_back(format_response(required_string(r, "text", where + " responses")));
  }
  std::vector<std::vector<int>> tiers;
  if (!line.contains("tiers") || !line["tiers"].is_array()) throw std::runtime_error(where + ": field \"tiers\" must be an array");
  for (const auto& tier : line["tiers"]) {
    tiers.emplace_back();
    for (const auto& id : tier) {
      auto key = id.is_string() ? id.get<std::string>() : id.dump();
      auto it = index.find(key);
      if (it == index.end()) throw std::runtime_error(where + ": field \"tiers\": unknown response id " + id.dump());
      tiers.back().push_back(it->second);
    }
  }
  group.pairs = pairs_from_tiers(tiers);
  return group;
}

}  // namespace

std::vector<RankingGroup> load_rankings(const std::filesystem::path& file, HhSplitUse hh_use, bool include_gold,
                                        RankingSourceStats* stats) {
  RankingSourceStats local;
  std::vector<RankingGroup> groups;
  std::map<std::string, size_t> pair_groups;  // pairs.jsonl: group_id -> index in groups
  auto lines = read_lines(file);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(i + 1);
    json line = json::parse(lines[i], nullptr, false);
    if (line.is_discarded() || !line.is_object()) throw std::runtime_error(where + ": not a JSON object");
    if (line.contains("tiers")) {  // the labeling export's rankings format
      if (line.value("is_gold", false) && !include_gold) {
        ++local.skipped_gold;
        continue;
      }
      auto group = from_export_ranking(line, where, local);
      if (group.pairs.empty()) {
        ++local.skipped_no_pairs;
        continue;
      }
      groups.push_back(std::move(group));
    } else if (line.contains("prompt") && line.contains("chosen")) {  // pairs format
      auto id = line.contains("group_id") ? line["group_id"].dump() : where;
      auto [it, fresh] = pair_groups.emplace(id, groups.size());
      if (fresh) {
        groups.emplace_back();
        groups.back().group_id = id;
        groups.back().kind = line.value("kind", "general");
        groups.back().prompt = chat_prompt(line, where, local);
      }
      auto& group = groups[it->second];
      auto response_index = [&group](const std::string& text) {
        for (size_t r = 0; r < group.responses.size(); ++r)
          if (group.responses[r] == text) return static_cast<int>(r);
        group.responses.push_back(text);
        return static_cast<int>(group.responses.size() - 1);
      };
      int w = response_index(format_response(required_string(line, "chosen", where)));
      int l = response_index(format_response(required_string(line, "rejected", where)));
      double margin = line.value("margin", 1.0);
      group.pairs.push_back({w, l, margin});
    } else if (line.contains("chosen") && line.contains("rejected")) {  // HH-RLHF transcripts
      auto chosen = required_string(line, "chosen", where), rejected = required_string(line, "rejected", where);
      auto split = data_split_of(chosen);
      if ((hh_use == HhSplitUse::kRewardTrain && split != DataSplit::kRewardTrain) ||
          (hh_use == HhSplitUse::kRewardEval && split != DataSplit::kRewardEval) ||
          (hh_use == HhSplitUse::kAllButRewardEval && split == DataSplit::kRewardEval)) {
        ++local.skipped_other_split;
        continue;
      }
      auto c = split_last_assistant_turn(chosen), r = split_last_assistant_turn(rejected);
      if (!c || !r) throw std::runtime_error(where + ": transcripts need a \"\\n\\nAssistant:\" turn");
      RankingGroup group;
      group.group_id = where;
      group.kind = line.value("kind", "harmless");
      group.prompt = c->prompt;  // the shared conversation (the two differ in the last reply only)
      group.responses = {format_response(c->response), format_response(r->response)};
      if (group.responses[0] == group.responses[1]) {
        ++local.skipped_no_pairs;
        continue;
      }
      group.pairs = {{0, 1, 1.0}};
      groups.push_back(std::move(group));
    } else {
      throw std::runtime_error(where + ": expected a ranking (\"tiers\"), a pair (\"prompt\",\"chosen\",\"rejected\") "
                               "or an HH comparison (\"chosen\",\"rejected\")");
    }
  }
  for (const auto& g : groups) local.pairs += static_cast<int64_t>(g.pairs.size());
  local.groups = static_cast<int64_t>(groups.size());
  if (stats) *stats = local;
  return groups;
}

}  // namespace rlhf
