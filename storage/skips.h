// Skips: a labeler declines an assignment with a reason from the skip_reasons table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/sqlite.h"

namespace rlhf::storage {

struct Skip {
  int64_t assignment_id = 0;
  std::string reason;
  std::string comment;
  std::string created_at;
};

// Records the skip and marks the assignment skipped; the caller owns the transaction.
void insert_skip(Database& db, int64_t assignment_id, const std::string& reason,
                 const std::string& comment, const std::string& now);
std::optional<Skip> find_skip(Database& db, int64_t assignment_id);

}  // namespace rlhf::storage
