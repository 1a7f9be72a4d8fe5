#include "storage/submissions.h"

#include <stdexcept>

#include "storage/assignments.h"

namespace rlhf::storage {
namespace {

constexpr const char* kColumns =
    "id, assignment_id, labeler_id, idempotency_key, request_json, comment, duration_ms, "
    "guidelines_version, version, supersedes, live, created_at";

Submission read_submission(const Statement& row) {
  Submission submission;
  submission.id = row.column_int(0);
  submission.assignment_id = row.column_int(1);
  submission.labeler_id = row.column_int(2);
  submission.idempotency_key = row.column_text(3);
  submission.request_json = row.column_text(4);
  submission.comment = row.column_text(5);
  submission.duration_ms = row.column_optional_int(6);
  submission.guidelines_version = row.column_optional_text(7);
  submission.version = static_cast<int>(row.column_int(8));
  submission.supersedes = row.column_optional_int(9);
  submission.live = row.column_int(10) != 0;
  submission.created_at = row.column_text(11);
  return submission;
}

std::vector<Submission> query_submissions(Statement& query) {
  std::vector<Submission> submissions;
  while (query.step()) submissions.push_back(read_submission(query));
  return submissions;
}

int next_version(Database& db, int64_t assignment_id) {
  Statement query = db.prepare("SELECT coalesce(max(version), 0) + 1 FROM submissions WHERE assignment_id = ?");
  query.bind(1, assignment_id).step();
  return static_cast<int>(query.column_int(0));
}

int64_t flag_id(Database& db, const std::string& code) {
  Statement query = db.prepare("SELECT id FROM flags WHERE code = ?");
  query.bind(1, code);
  if (!query.step()) throw std::runtime_error("unknown flag '" + code + "'");
  return query.column_int(0);
}

void insert_ranks(Database& db, int64_t submission_id, const Tiers& tiers) {
  Statement insert = db.prepare("INSERT INTO submission_ranks (submission_id, response_id, tier) VALUES (?, ?, ?)");
  for (size_t tier = 0; tier < tiers.size(); ++tier) {
    for (int64_t response_id : tiers[tier]) {
      insert.reset();
      insert.bind(1, submission_id).bind(2, response_id).bind(3, static_cast<int64_t>(tier)).run();
    }
  }
}

void insert_annotations(Database& db, int64_t submission_id, const std::vector<Annotation>& annotations) {
  Statement rating = db.prepare("INSERT INTO response_ratings (submission_id, response_id, likert) VALUES (?, ?, ?)");
  Statement flag = db.prepare("INSERT INTO response_flags (submission_id, response_id, flag_id) VALUES (?, ?, ?)");
  for (const Annotation& annotation : annotations) {
    if (annotation.likert) {
      rating.reset();
      rating.bind(1, submission_id).bind(2, annotation.response_id).bind(3, *annotation.likert).run();
    }
    for (const std::string& code : annotation.flags) {
      flag.reset();
      flag.bind(1, submission_id).bind(2, annotation.response_id).bind(3, flag_id(db, code)).run();
    }
  }
}

}  // namespace

int64_t insert_submission(Database& db, const NewSubmission& submission, const std::string& now) {
  if (submission.supersedes) {
    // Retire the old version first: the partial unique index allows one live row per assignment.
    db.prepare("UPDATE submissions SET live = 0 WHERE id = ? AND assignment_id = ? AND live = 1")
        .bind(1, *submission.supersedes)
        .bind(2, submission.assignment_id)
        .run();
    if (db.changes() != 1) throw std::runtime_error("submission to supersede is not the live one");
  }
  db.prepare(
        "INSERT INTO submissions (assignment_id, labeler_id, idempotency_key, request_json, comment, "
        "duration_ms, guidelines_version, version, supersedes, live, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)")
      .bind(1, submission.assignment_id)
      .bind(2, submission.labeler_id)
      .bind(3, submission.idempotency_key)
      .bind(4, submission.request_json)
      .bind(5, submission.comment)
      .bind(6, submission.duration_ms)
      .bind(7, submission.guidelines_version)
      .bind(8, next_version(db, submission.assignment_id))
      .bind(9, submission.supersedes)
      .bind(10, now)
      .run();
  const int64_t id = db.last_insert_rowid();
  insert_ranks(db, id, submission.tiers);
  insert_annotations(db, id, submission.annotations);
  set_assignment_status(db, submission.assignment_id, "submitted");
  return id;
}

std::optional<Submission> find_submission(Database& db, int64_t id) {
  Statement query = db.prepare(std::string("SELECT ") + kColumns + " FROM submissions WHERE id = ?");
  query.bind(1, id);
  if (!query.step()) return std::nullopt;
  return read_submission(query);
}

std::optional<Submission> find_submission_by_key(Database& db, int64_t labeler_id,
                                                 const std::string& idempotency_key) {
  Statement query = db.prepare(std::string("SELECT ") + kColumns +
                               " FROM submissions WHERE labeler_id = ? AND idempotency_key = ?");
  query.bind(1, labeler_id).bind(2, idempotency_key);
  if (!query.step()) return std::nullopt;
  return read_submission(query);
}

std::optional<Submission> find_live_submission(Database& db, int64_t assignment_id) {
  Statement query = db.prepare(std::string("SELECT ") + kColumns +
                               " FROM submissions WHERE assignment_id = ? AND live = 1");
  query.bind(1, assignment_id);
  if (!query.step()) return std::nullopt;
  return read_submission(query);
}

std::vector<Submission> live_submissions(Database& db) {
  Statement query = db.prepare(std::string("SELECT ") + kColumns + " FROM submissions WHERE live = 1 ORDER BY id");
  return query_submissions(query);
}

Tiers load_tiers(Database& db, int64_t submission_id) {
  Statement query = db.prepare(
      "SELECT r.tier, r.response_id FROM submission_ranks r JOIN responses p ON p.id = r.response_id "
      "WHERE r.submission_id = ? ORDER BY r.tier, p.position");
  query.bind(1, submission_id);
  Tiers tiers;
  while (query.step()) {
    const auto tier = static_cast<size_t>(query.column_int(0));
    if (tiers.size() <= tier) tiers.resize(tier + 1);
    tiers[tier].push_back(query.column_int(1));
  }
  return tiers;
}

std::map<int64_t, int> load_likert(Database& db, int64_t submission_id) {
  Statement query = db.prepare("SELECT response_id, likert FROM response_ratings WHERE submission_id = ?");
  query.bind(1, submission_id);
  std::map<int64_t, int> likert;
  while (query.step()) likert[query.column_int(0)] = static_cast<int>(query.column_int(1));
  return likert;
}

std::map<int64_t, std::vector<std::string>> load_flags(Database& db, int64_t submission_id) {
  Statement query = db.prepare(
      "SELECT rf.response_id, f.code FROM response_flags rf JOIN flags f ON f.id = rf.flag_id "
      "WHERE rf.submission_id = ? ORDER BY rf.response_id, f.sort_order");
  query.bind(1, submission_id);
  std::map<int64_t, std::vector<std::string>> flags;
  while (query.step()) flags[query.column_int(0)].push_back(query.column_text(1));
  return flags;
}

int64_t count_submissions(Database& db) {
  Statement query = db.prepare("SELECT count(*) FROM submissions");
  query.step();
  return query.column_int(0);
}

}  // namespace rlhf::storage
