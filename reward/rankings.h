// Ranked comparisons for the reward model. One RankingGroup is one prompt's ranking by one labeler
// (or one external comparison): its pairs (winner, loser, margin) are one batch element, and the
// InstructGPT loss averages -log sigmoid(r_w - r_l) over them. Several labelers' rankings of one
// prompt stay separate groups.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

namespace rlhf {

struct RankedPair {
  int winner = 0, loser = 0;  // indices into RankingGroup::responses
  double margin = 1.0;        // tier distance (>= 1), for the optional margin term
};

struct RankingGroup {
  std::string group_id;
  std::string kind;    // helpful / harmless / honest / general
  std::string prompt;  // chat format, ends with "\n\nAssistant:"
  std::vector<std::string> responses;
  std::vector<RankedPair> pairs;
};

// Every strictly ordered pair of a ranking given as tiers (best first; responses in one tier are
// tied and give no pair between them): sum over tiers i < j of |tier i| * |tier j| pairs.
std::vector<RankedPair> pairs_from_tiers(const std::vector<std::vector<int>>& tiers);

// Loss of one step: mean over groups of the mean over the group's pairs of
// -log sigmoid(r_w - r_l - margin_coef * margin). `rewards` holds the group's responses' rewards
// back to back in group order.
torch::Tensor ranking_loss(const std::vector<const RankingGroup*>& groups, const torch::Tensor& rewards,
                           double margin_coef = 0.0);

struct RankingSourceStats {
  int64_t groups = 0, pairs = 0, skipped_gold = 0, skipped_no_pairs = 0, skipped_other_split = 0;
  int64_t wrapped_prompts = 0;  // bare prompts put into the chat template, as SFT, PPO and scoring do
};

// Which HH comparisons a loader keeps: the reward-train split, the held-out reward-eval split, every
// split except reward-eval (reward-train + SFT prompts, for more training pairs), or all (a file
// that is not split by hash, text/data_split.h).
enum class HhSplitUse { kRewardTrain, kRewardEval, kAllButRewardEval, kAll };

// Reads rankings.jsonl (the labeling export), pairs.jsonl ({"prompt","chosen","rejected",
// "group_id","margin"}) or HH-RLHF {"chosen","rejected"} transcripts (optionally .gz), detected per
// line. HH lines are kept only for `hh_use`'s split. A prompt that is not a chat transcript is
// wrapped in the chat template (text/chat_format.h). Errors name the file, line and field.
std::vector<RankingGroup> load_rankings(const std::filesystem::path& file, HhSplitUse hh_use, bool include_gold,
                                        RankingSourceStats* stats);

}  // namespace rlhf
