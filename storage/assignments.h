// Assignments: one labeler, one prompt, the response order that labeler was shown. A labeler is
// never assigned the same prompt twice (UNIQUE (labeler_id, prompt_id)) and holds at most one open
// assignment (a partial unique index), so the rules hold even if the service logic had a race.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace rlhf::storage {

struct Assignment {
  int64_t id = 0;
  int64_t labeler_id = 0;
  int64_t prompt_id = 0;
  std::vector<int64_t> shown_order;  // response ids in the order the page shows them
  std::string status;                // open, submitted, skipped
  std::string created_at;
  std::string expires_at;
};

std::optional<Assignment> find_assignment(Database& db, int64_t id);
std::optional<Assignment> find_open_assignment(Database& db, int64_t labeler_id);
int64_t insert_assignment(Database& db, int64_t labeler_id, int64_t prompt_id,
                          const std::vector<int64_t>& shown_order, const std::string& now,
                          const std::string& expires_at);
void set_assignment_status(Database& db, int64_t id, const std::string& status);
void set_assignment_expiry(Database& db, int64_t id, const std::string& expires_at);
int64_t count_assignments(Database& db, int64_t labeler_id, const std::string& status);
int64_t count_all_assignments(Database& db, int64_t labeler_id);
// How many of the labeler's `latest` most recent assignments are on gold prompts.
int64_t count_gold_among_latest(Database& db, int64_t labeler_id, int64_t latest);

// The next prompt for a labeler, or nothing. Candidates: never assigned to this labeler, and
// either gold (every labeler sees every gold prompt) or still short of target_labels counting
// submitted labels plus other labelers' unexpired open assignments. Prompts that need the most
// labels come first. want_gold picks among gold prompts first; either kind falls back to the other.
std::optional<int64_t> pick_next_prompt(Database& db, int64_t labeler_id, const std::string& now,
                                        bool want_gold);
// How many prompts pick_next_prompt could still hand this labeler.
int64_t count_available_prompts(Database& db, int64_t labeler_id, const std::string& now);

}  // namespace rlhf::storage
