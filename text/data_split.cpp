#include "text/data_split.h"

#include <algorithm>
#include <cstdint>

#include "io/stable_hash.h"
#include "text/chat_format.h"

namespace rlhf {

DataSplit data_split_of(std::string_view transcript) {
  const uint64_t bucket = stable_hash(first_human_message(transcript)) % 100;
  if (bucket < 20) return DataSplit::kRewardEval;
  if (bucket < 60) return DataSplit::kRewardTrain;
  return DataSplit::kSft;
}

bool is_hash_split_file(const std::filesystem::path& file, const std::vector<std::string>& split_paths) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path target = fs::weakly_canonical(file, error);
  if (error) return false;
  const std::vector<fs::path> parts(target.begin(), target.end());
  for (const auto& split_path : split_paths) {
    fs::path entry = fs::path(split_path).lexically_normal();
    if (entry.filename().empty()) entry = entry.parent_path();  // "folder/" names the folder
    if (entry.empty()) continue;
    if (entry.is_absolute()) {
      auto [entry_end, target_at] = std::mismatch(entry.begin(), entry.end(), target.begin(), target.end());
      if (entry_end == entry.end()) return true;
      continue;
    }
    // A relative entry matches wherever its components appear in a row in the file's path.
    const std::vector<fs::path> tail(entry.begin(), entry.end());
    if (std::search(parts.begin(), parts.end(), tail.begin(), tail.end()) != parts.end()) return true;
  }
  return false;
}

}  // namespace rlhf
