#include "reward/preference_data.h"

#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "io/files.h"
#include "io/stable_hash.h"

namespace rlhf {

namespace fs = std::filesystem;

HhSplitUse hh_train_split(const std::string& name) {
  if (name == "reward_train") return HhSplitUse::kRewardTrain;
  if (name == "all_but_eval") return HhSplitUse::kAllButRewardEval;
  throw std::runtime_error("data.hh_train_split \"" + name + "\": expected reward_train or all_but_eval");
}

namespace {

// Every file's rankings; HH lines of a hash-split file keep `use`'s split, other files are used whole.
std::vector<RankingGroup> load_all(const std::vector<fs::path>& files, const PreferenceDataConfig& data, HhSplitUse use,
                                   const std::string& stage) {
  std::vector<RankingGroup> all;
  for (const auto& file : files) {
    const bool split = is_hash_split_file(file, data.hash_split_files);
    RankingSourceStats stats;
    auto groups = load_rankings(file, split ? use : HhSplitUse::kAll, data.include_gold, &stats);
    std::cerr << stage << ": " << file.string() << ": " << stats.groups << " rankings, " << stats.pairs << " pairs"
              << (split ? " (split by hash)" : " (used whole)");
    if (stats.skipped_other_split) std::cerr << ", " << stats.skipped_other_split << " HH lines of other splits";
    if (stats.skipped_gold) std::cerr << ", " << stats.skipped_gold << " gold excluded";
    if (stats.skipped_no_pairs) std::cerr << ", " << stats.skipped_no_pairs << " without a strict pair";
    if (stats.wrapped_prompts) std::cerr << ", " << stats.wrapped_prompts << " bare prompts put in the chat template";
    std::cerr << "\n";
    all.insert(all.end(), std::make_move_iterator(groups.begin()), std::make_move_iterator(groups.end()));
  }
  return all;
}

// A file that is not split by hash gives all its lines to whichever list names it: in both, the
// held-out accuracy would be measured on training pairs.
void refuse_unsplit_overlap(const std::vector<fs::path>& train, const std::vector<fs::path>& eval,
                            const PreferenceDataConfig& data) {
  for (const auto& e : eval) {
    if (is_hash_split_file(e, data.hash_split_files)) continue;
    for (const auto& t : train)
      if (fs::weakly_canonical(t) == fs::weakly_canonical(e))
        throw std::runtime_error("data.eval_files: " + e.string() +
                                 " is also a training file and is not split by hash (data.hash_split_files): "
                                 "give a separate held-out file");
  }
}

}  // namespace

PreferenceSplits load_preference_splits(const PreferenceDataConfig& data, const std::string& stage) {
  const HhSplitUse train_split = hh_train_split(data.hh_train_split);
  const auto train_files = expand_files(data.train_files, "data.train_files");
  const auto eval_files = expand_files(data.eval_files, "data.eval_files");
  refuse_unsplit_overlap(train_files, eval_files, data);
  auto train = load_all(train_files, data, train_split, stage);
  PreferenceSplits splits;
  splits.eval = load_all(eval_files, data, HhSplitUse::kRewardEval, stage);
  if (data.max_train_groups > 0 && static_cast<int64_t>(train.size()) > data.max_train_groups)
    train.resize(data.max_train_groups);
  if (train.empty()) throw std::runtime_error("data.train_files: no rankings with a strict pair");
  if (splits.eval.empty()) throw std::runtime_error("data.eval_files: no held-out rankings");
  for (auto& g : train)
    (stable_hash(g.prompt) % 100 < static_cast<uint64_t>(data.valid_percent) ? splits.valid : splits.fit)
        .push_back(std::move(g));
  if (splits.fit.empty() || splits.valid.empty())
    throw std::runtime_error("data.valid_percent: the training rankings leave no training or validation rankings");
  return splits;
}

}  // namespace rlhf
