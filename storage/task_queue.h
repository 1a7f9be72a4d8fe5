// The task queue: which prompt a labeler gets next, and how many are left for them, in time that
// does not grow with the number of prompts (every tasks/next and GET /me asks).
//
// The rule: a prompt can go to a labeler if it has target_labels > 0, was never assigned to this
// labeler (whatever became of that assignment), and is either gold (every labeler sees every gold
// prompt) or still needs labels, where
//   need = target_labels - submitted assignments - open assignments that have not expired.
// Prompts that need the most labels come first, then the oldest (lowest id). want_gold puts the
// gold prompts first, or the others; either kind falls back to the other.
//
// How it avoids reading every prompt. Only open, unexpired assignments ("in flight") make need
// differ from prompts.missing_labels (target - submitted, kept by triggers and indexed), and a
// labeler holds at most one open assignment, so few prompts are in flight. The best prompt of a
// kind is therefore the better of
//   - the first prompt in the index prompts_queue (missing_labels DESC, id) that is not in flight
//     and was never the labeler's, whose need is its missing_labels, and
//   - the best in-flight prompt, each one's need computed from its holders.
// The walk down the index passes over only the prompts that rank above the answer and are in
// flight or were the labeler's. The count is exact in the same way: counters of gold and wanted
// prompts, overall and per labeler (schema migration 4), less the wanted prompts whose missing
// labels are all in flight, looked at one by one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/sqlite.h"

namespace rlhf::storage {

// The next prompt for a labeler, or nothing. `now` is compared with expires_at (UTC ISO-8601).
std::optional<int64_t> pick_next_prompt(Database& db, int64_t labeler_id, const std::string& now,
                                        bool want_gold);

// How many prompts pick_next_prompt could still hand this labeler (the "remaining" of GET /me).
int64_t count_available_prompts(Database& db, int64_t labeler_id, const std::string& now);

}  // namespace rlhf::storage
