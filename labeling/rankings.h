// Every live submission joined with what it ranks: the common input of exports and statistics.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "storage/assignments.h"
#include "storage/labelers.h"
#include "storage/prompts.h"
#include "storage/submissions.h"

namespace rlhf::labeling {

struct RankingRecord {
  storage::Submission submission;
  storage::Assignment assignment;
  storage::Labeler labeler;
  storage::Prompt prompt;
  std::vector<storage::Response> responses;  // import order
  storage::Tiers tiers;                      // response database ids, best first
};

std::vector<RankingRecord> load_live_rankings(storage::Database& db);

// Response id -> tier index (0 = best).
std::map<int64_t, size_t> tier_of(const storage::Tiers& tiers);

}  // namespace rlhf::labeling
