// Which use a shipped preference/demonstration example is reserved for, decided once and for all by
// the stable hash of its first human message: 20% reward-model evaluation (never trained on by any
// stage), 40% reward-model training, 40% SFT demonstrations.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rlhf {

enum class DataSplit { kRewardEval, kRewardTrain, kSft };
DataSplit data_split_of(std::string_view transcript);

// The split is for the shipped HH comparisons, which every stage shares: a user's own file of
// {"chosen","rejected"} lines is used whole. Configs name the split files or folders
// (`hash_split_files`); this is their default, the shipped folder.
inline const std::vector<std::string> kShippedHashSplitFiles = {"data/preference/hh-rlhf"};

// Whether `file` is one of `split_paths` or lies inside one of them. An absolute entry is a prefix
// of the file's canonical path; a relative one matches wherever its components appear in a row in
// that path, so the shipped folder is recognised from any working directory.
bool is_hash_split_file(const std::filesystem::path& file, const std::vector<std::string>& split_paths);

}  // namespace rlhf
