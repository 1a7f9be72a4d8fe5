// Exports for the reward stage. "rankings": one lossless line per live submission (tiers, shown
// order, Likert, flags, anonymised labeler). "pairs": one {"prompt","chosen","rejected",
// "group_id","margin"} line per strictly ordered pair of responses; tied responses give none.
// "prompts": one {"prompt","kind","prompt_id"} line per prompt that is not a gold (calibration)
// prompt, ranked or not: the prompts PPO samples from.
#pragma once

#include <ostream>
#include <string>

#include "storage/sqlite.h"

namespace rlhf::labeling {

enum class ExportFormat { Rankings, Pairs, Prompts };

ExportFormat parse_export_format(const std::string& name);  // rankings, pairs, prompts

// Writes JSONL; returns the number of lines.
size_t export_jsonl(storage::Database& db, ExportFormat format, std::ostream& out);

// Writes the file atomically (name.tmp, fsync, rename): a reader never sees half an export.
size_t export_to_file(storage::Database& db, ExportFormat format, const std::string& path);

}  // namespace rlhf::labeling
