// The body of POST /assignments/{id}/submit and /skip, parsed strictly (422 on any problem).
// Two steps: the shape of the JSON on its own, then the rules that need the assignment (the
// tiers must partition exactly the response ids that were shown).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "labeling/json_fields.h"
#include "storage/submissions.h"

namespace rlhf::labeling {

struct SubmissionInput {
  storage::Tiers tiers;
  std::vector<storage::Annotation> annotations;
  std::string comment;
  std::optional<int64_t> duration_ms;
  std::optional<std::string> guidelines_version;
  std::optional<int64_t> supersedes;
  std::string canonical_json;  // the body re-serialised with sorted keys, to recognise replays
};

// Throws FieldError.
SubmissionInput parse_submission(const json& body);
// Throws FieldError unless tiers partition shown_order and every flag code is known.
void check_submission(const SubmissionInput& input, const std::vector<int64_t>& shown_order,
                      const std::set<std::string>& flag_codes);

struct SkipInput {
  std::string reason;
  std::string comment;
};

SkipInput parse_skip(const json& body, const std::set<std::string>& reason_codes);

}  // namespace rlhf::labeling
