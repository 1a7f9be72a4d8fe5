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

// A labeler's assignments by status, read from the counters the schema keeps (migration 4), so
// the cost does not grow with their history.
struct AssignmentCounts {
  int64_t all = 0;
  int64_t submitted = 0;
  int64_t skipped = 0;
};
AssignmentCounts count_assignments(Database& db, int64_t labeler_id);
// How many of the labeler's `latest` most recent assignments are on gold prompts.
int64_t count_gold_among_latest(Database& db, int64_t labeler_id, int64_t latest);

// Choosing the next prompt and counting what is left: storage/task_queue.h.

}  // namespace rlhf::storage
