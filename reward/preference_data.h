// The preference data of the stages that learn from comparisons (reward model, DPO): which files
// give training and held-out rankings, and the stable split of the training rankings into the part
// that is fit and the part that selects the best checkpoint. Both stages read the same files the
// same way, so their held-out figures are measured on the same pairs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reward/rankings.h"
#include "text/data_split.h"

namespace rlhf {

struct PreferenceDataConfig {
  // rankings.jsonl / pairs.jsonl / HH files (HH: reward-train split) / a labeling database (*.db,
  // exported by the stage to OUT/<name>.rankings.jsonl first)
  std::vector<std::string> train_files;
  std::vector<std::string> eval_files;   // held out; HH files give their reward-eval split
  // Files or folders whose HH lines are split by hash (text/data_split.h); any other file is used
  // whole, and may then not be both a training and a held-out file
  std::vector<std::string> hash_split_files = kShippedHashSplitFiles;
  bool include_gold = false;             // gold (calibration) rankings are excluded by default
  int64_t max_train_groups = 0;          // 0: all
  int64_t valid_percent = 10;            // of the training rankings, held back to select the best checkpoint
  // HH files in train_files: "reward_train" (the reward split only) or "all_but_eval" (also the
  // SFT split's comparisons: twice the pairs; still disjoint from the held-out reward-eval split)
  std::string hh_train_split = "reward_train";
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PreferenceDataConfig, train_files, eval_files, hash_split_files,
                                                include_gold, max_train_groups, valid_percent, hh_train_split)

// "reward_train" or "all_but_eval"; anything else is an error naming data.hh_train_split.
HhSplitUse hh_train_split(const std::string& name);

struct PreferenceSplits {
  std::vector<RankingGroup> fit;    // trained on
  std::vector<RankingGroup> valid;  // selects `best` (valid_percent of the training rankings, by a stable hash of the prompt)
  std::vector<RankingGroup> eval;   // held out: what the stage reports
};

// Loads and splits the rankings, logging per file (prefixed with `stage`) what it gave and every
// line dropped or rewritten. Errors name the field at fault.
PreferenceSplits load_preference_splits(const PreferenceDataConfig& data, const std::string& stage);

}  // namespace rlhf
