// Submissions: a ranking as tiers of response ids (ties are first-class), per-response Likert
// ratings and flags, keyed by an idempotency key per labeler. Revisions add a new version and
// mark the previous one not live; nothing is ever deleted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/prompts.h"
#include "storage/sqlite.h"

namespace rlhf::storage {

struct Annotation {
  int64_t response_id = 0;
  std::optional<int> likert;       // 1..7
  std::vector<std::string> flags;  // flag codes
};

struct NewSubmission {
  int64_t assignment_id = 0;
  int64_t labeler_id = 0;
  std::string idempotency_key;
  std::string request_json;  // canonical request body, to recognise replays
  Tiers tiers;
  std::vector<Annotation> annotations;
  std::string comment;
  std::optional<int64_t> duration_ms;
  std::optional<std::string> guidelines_version;
  std::optional<int64_t> supersedes;  // the live submission this one replaces
};

struct Submission {
  int64_t id = 0;
  int64_t assignment_id = 0;
  int64_t labeler_id = 0;
  std::string idempotency_key;
  std::string request_json;
  std::string comment;
  std::optional<int64_t> duration_ms;
  std::optional<std::string> guidelines_version;
  int version = 1;
  std::optional<int64_t> supersedes;
  bool live = true;
  std::string created_at;
};

// Inserts the submission with its ranks, ratings and flags, retires the superseded one and
// marks the assignment submitted. The caller owns the transaction. Throws on an unknown flag.
int64_t insert_submission(Database& db, const NewSubmission& submission, const std::string& now);

std::optional<Submission> find_submission(Database& db, int64_t id);
std::optional<Submission> find_submission_by_key(Database& db, int64_t labeler_id,
                                                 const std::string& idempotency_key);
std::optional<Submission> find_live_submission(Database& db, int64_t assignment_id);
// Every live submission in id order (exports, statistics).
std::vector<Submission> live_submissions(Database& db);

Tiers load_tiers(Database& db, int64_t submission_id);
std::map<int64_t, int> load_likert(Database& db, int64_t submission_id);  // response id -> 1..7
std::map<int64_t, std::vector<std::string>> load_flags(Database& db, int64_t submission_id);
int64_t count_submissions(Database& db);  // all rows, live or not

}  // namespace rlhf::storage
