#include "labeling/tasks.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include "labeling/api_error.h"
#include "labeling/limits.h"
#include "labeling/submission_input.h"
#include "storage/assignments.h"
#include "storage/catalog.h"
#include "storage/clock.h"
#include "storage/prompts.h"
#include "storage/skips.h"
#include "storage/submissions.h"
#include "storage/task_queue.h"

namespace rlhf::labeling {
namespace {

using storage::Assignment;
using storage::Database;
using storage::Labeler;

std::string expiry_from_now() {
  return storage::format_utc(std::chrono::system_clock::now() + std::chrono::seconds(kAssignmentLifetimeSeconds));
}

std::mt19937_64& generator() {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

// Order matters to labelers (position bias), so every assignment gets its own shuffle.
std::vector<int64_t> shuffled_response_ids(Database& db, int64_t prompt_id) {
  std::vector<int64_t> ids;
  for (const auto& response : storage::responses_of(db, prompt_id)) ids.push_back(response.id);
  std::shuffle(ids.begin(), ids.end(), generator());
  return ids;
}

// One gold prompt per block of kGoldEvery tasks, at a random place in the block: at a fixed place
// (every fifth task) a labeler could tell from the progress counter which answer is graded.
// Until the block has had its gold prompt, each task is gold with probability 1 / (tasks left in
// the block): that places it uniformly, keeps the rate, and survives restarts, since the block's
// history is in the database.
bool gold_turn(Database& db, int64_t labeler_id) {
  const int64_t into_block = storage::count_assignments(db, labeler_id).all % kGoldEvery;
  if (into_block > 0 && storage::count_gold_among_latest(db, labeler_id, into_block) > 0) return false;
  std::uniform_int_distribution<int64_t> slot(0, kGoldEvery - 1 - into_block);
  return slot(generator()) == 0;
}

json assignment_json(Database& db, const Assignment& assignment) {
  const auto prompt = storage::find_prompt(db, assignment.prompt_id);
  const auto responses = storage::responses_of(db, assignment.prompt_id);
  json shown = json::array();
  for (int64_t id : assignment.shown_order) {
    auto found = std::find_if(responses.begin(), responses.end(), [&](const auto& r) { return r.id == id; });
    if (found != responses.end()) shown.push_back({{"id", found->id}, {"text", found->text}});
  }
  return {{"id", assignment.id},
          {"status", assignment.status},
          {"expires_at", assignment.expires_at},
          {"prompt",
           {{"id", prompt->id}, {"kind", prompt->kind}, {"conversation", json::parse(prompt->conversation_json)}}},
          {"responses", shown}};
}

json submission_result(const storage::Submission& submission) {
  return {{"submission",
           {{"id", submission.id},
            {"assignment_id", submission.assignment_id},
            {"version", submission.version},
            {"supersedes", submission.supersedes ? json(*submission.supersedes) : json(nullptr)},
            {"created_at", submission.created_at}}}};
}

// Someone else's assignment is reported exactly like a missing one: ids reveal nothing.
Assignment own_assignment(Database& db, const Labeler& labeler, int64_t assignment_id) {
  auto assignment = storage::find_assignment(db, assignment_id);
  if (!assignment || assignment->labeler_id != labeler.id) {
    throw ApiError(404, "not_found", "no assignment " + std::to_string(assignment_id) + " for you");
  }
  return *assignment;
}

std::set<std::string> flag_codes(Database& db) {
  std::set<std::string> codes;
  for (const auto& flag : storage::list_flags(db)) codes.insert(flag.code);
  return codes;
}

std::set<std::string> skip_reason_codes(Database& db) {
  std::set<std::string> codes;
  for (const auto& reason : storage::list_skip_reasons(db)) codes.insert(reason.code);
  return codes;
}

ApiError invalid(const FieldError& error, const char* code) {
  const bool unknown = std::string(error.what()).rfind("unknown field", 0) == 0;
  return ApiError(422, unknown ? "unknown_field" : code, error.field + ": " + error.what(), error.field);
}

// Decides, for a request that is not a replay of its own key, whether the assignment's state
// allows it. Returns the stored result when the request repeats the live answer.
std::optional<SubmitOutcome> check_state(Database& db, const Assignment& assignment, const SubmissionInput& input) {
  if (assignment.status == "skipped") {
    throw ApiError(409, "already_skipped", "assignment " + std::to_string(assignment.id) + " was skipped");
  }
  if (assignment.status == "submitted") {
    const auto live = storage::find_live_submission(db, assignment.id);
    if (!input.supersedes) {
      if (live && live->request_json == input.canonical_json) return SubmitOutcome{200, submission_result(*live)};
      throw ApiError(409, "already_submitted",
                     "assignment " + std::to_string(assignment.id) + " already has a different answer; "
                     "send \"supersedes\" to revise it");
    }
    if (!live || *input.supersedes != live->id) {
      throw ApiError(409, "stale_revision", "supersedes must be the id of the live submission");
    }
  } else if (input.supersedes) {
    throw ApiError(409, "stale_revision", "nothing to supersede: assignment has no submission yet");
  }
  return std::nullopt;
}

}  // namespace

bool is_valid_idempotency_key(const std::string& key) {
  if (key.size() < 8 || key.size() > 128) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

json me(Database& db, const Labeler& labeler) {
  const storage::AssignmentCounts done = storage::count_assignments(db, labeler.id);
  return {{"name", labeler.name},
          {"role", labeler.role},
          {"progress",
           {{"submitted", done.submitted},
            {"skipped", done.skipped},
            {"remaining", storage::count_available_prompts(db, labeler.id, storage::utc_now())}}},
          {"guidelines_version", kGuidelinesVersion}};
}

json options(Database& db) {
  json flags = json::array();
  for (const auto& flag : storage::list_flags(db)) {
    flags.push_back({{"code", flag.code}, {"label", flag.label}, {"description", flag.description}});
  }
  json reasons = json::array();
  for (const auto& reason : storage::list_skip_reasons(db)) {
    reasons.push_back({{"code", reason.code}, {"label", reason.label}});
  }
  return {{"flags", flags},
          {"skip_reasons", reasons},
          {"likert", {{"min", kLikertMin}, {"max", kLikertMax}, {"min_label", "Terrible"}, {"max_label", "Excellent"}}},
          {"limits", {{"comment_max_chars", kMaxCommentChars}, {"max_responses", kMaxResponses}}},
          {"guidelines_version", kGuidelinesVersion}};
}

json next_task(Database& db, const Labeler& labeler) {
  storage::Transaction transaction(db);
  const std::string now = storage::utc_now();
  if (auto open = storage::find_open_assignment(db, labeler.id)) {
    // Hand back the same task (a reload must not lose the draft) and renew its reservation.
    open->expires_at = expiry_from_now();
    storage::set_assignment_expiry(db, open->id, open->expires_at);
    json view = assignment_json(db, *open);
    transaction.commit();
    return {{"assignment", view}};
  }
  const auto prompt_id = storage::pick_next_prompt(db, labeler.id, now, gold_turn(db, labeler.id));
  if (!prompt_id) return {{"assignment", nullptr}};
  const auto order = shuffled_response_ids(db, *prompt_id);
  const int64_t id = storage::insert_assignment(db, labeler.id, *prompt_id, order, now, expiry_from_now());
  json view = assignment_json(db, *storage::find_assignment(db, id));
  transaction.commit();
  return {{"assignment", view}};
}

json get_assignment(Database& db, const Labeler& labeler, int64_t assignment_id) {
  const Assignment assignment = own_assignment(db, labeler, assignment_id);
  json view = assignment_json(db, assignment);
  json result = {{"assignment", view}};
  if (auto live = storage::find_live_submission(db, assignment_id)) {
    result["submission"] = submission_result(*live)["submission"];
  }
  return result;
}

SubmitOutcome submit(Database& db, const Labeler& labeler, int64_t assignment_id,
                     const std::string& idempotency_key, const json& body) {
  if (!is_valid_idempotency_key(idempotency_key)) {
    throw ApiError(400, "invalid_request", "Idempotency-Key header must be 8-128 characters of A-Z a-z 0-9 _ -",
                   "Idempotency-Key");
  }
  SubmissionInput input;
  try {
    input = parse_submission(body);
  } catch (const FieldError& error) {
    throw invalid(error, "invalid_submission");
  }
  storage::Transaction transaction(db);
  const Assignment assignment = own_assignment(db, labeler, assignment_id);
  if (auto earlier = storage::find_submission_by_key(db, labeler.id, idempotency_key)) {
    if (earlier->assignment_id == assignment_id && earlier->request_json == input.canonical_json) {
      return {200, submission_result(*earlier)};
    }
    throw ApiError(409, "idempotency_key_reused",
                   "this Idempotency-Key was already used for a different request");
  }
  if (auto stored = check_state(db, assignment, input)) return *stored;
  try {
    check_submission(input, assignment.shown_order, flag_codes(db));
  } catch (const FieldError& error) {
    throw invalid(error, "invalid_submission");
  }
  storage::NewSubmission row{assignment_id, labeler.id, idempotency_key, input.canonical_json,
                             input.tiers, input.annotations, input.comment, input.duration_ms,
                             input.guidelines_version, input.supersedes};
  const int64_t id = storage::insert_submission(db, row, storage::utc_now());
  SubmitOutcome outcome{201, submission_result(*storage::find_submission(db, id))};
  transaction.commit();
  return outcome;
}

json skip(Database& db, const Labeler& labeler, int64_t assignment_id, const json& body) {
  storage::Transaction transaction(db);
  const Assignment assignment = own_assignment(db, labeler, assignment_id);
  SkipInput input;
  try {
    input = parse_skip(body, skip_reason_codes(db));
  } catch (const FieldError& error) {
    throw invalid(error, "invalid_skip");
  }
  const json result = {{"assignment_id", assignment_id}, {"status", "skipped"}};
  if (assignment.status == "skipped") return result;  // a retried skip is not an error
  if (assignment.status == "submitted") {
    throw ApiError(409, "already_submitted", "assignment " + std::to_string(assignment_id) + " was already submitted");
  }
  storage::insert_skip(db, assignment_id, input.reason, input.comment, storage::utc_now());
  transaction.commit();
  return result;
}

}  // namespace rlhf::labeling
