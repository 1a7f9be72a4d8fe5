// A transparent scripted labeler for unattended runs: it ranks every task it is given by a stated
// rule, through the same task/submit functions people use, as the external labeler
// "scripted-<rule>" so exports mark its rankings with that source (never "human").
#pragma once

#include <string>

#include "storage/sqlite.h"

namespace rlhf {

// The rule, stated in words for reports (throws for an unknown rule).
std::string scripted_rule_description(const std::string& rule);

// Ranks tasks until none is left or max_tasks are done; returns how many it ranked.
//   prompt_overlap  more distinct prompt words (3+ letters, case-folded) reused in the response
//                   ranks higher (a crude relevance proxy); equal counts tie
//   longer          more words ranks higher; equal counts tie
int64_t run_scripted_labeler(storage::Database& db, const std::string& rule, int64_t max_tasks = 1000000);

}  // namespace rlhf
