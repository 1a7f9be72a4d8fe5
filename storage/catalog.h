// The labeling vocabulary stored as data (seeded by migration 2): response flags and skip
// reasons. The page reads them from GET /api/v1/options instead of hard-coding them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace rlhf::storage {

struct Flag {
  std::string code;
  std::string label;
  std::string description;
};

struct SkipReason {
  std::string code;
  std::string label;
};

std::vector<Flag> list_flags(Database& db);
std::vector<SkipReason> list_skip_reasons(Database& db);

}  // namespace rlhf::storage
