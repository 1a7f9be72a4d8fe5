#include "storage/assignments.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace rlhf::storage {
namespace {

constexpr const char* kColumns =
    "id, labeler_id, prompt_id, shown_order, status, created_at, expires_at";

Assignment read_assignment(const Statement& row) {
  Assignment assignment;
  assignment.id = row.column_int(0);
  assignment.labeler_id = row.column_int(1);
  assignment.prompt_id = row.column_int(2);
  assignment.shown_order = nlohmann::json::parse(row.column_text(3)).get<std::vector<int64_t>>();
  assignment.status = row.column_text(4);
  assignment.created_at = row.column_text(5);
  assignment.expires_at = row.column_text(6);
  return assignment;
}

std::optional<Assignment> find_one(Database& db, const char* where, int64_t value) {
  Statement query = db.prepare(std::string("SELECT ") + kColumns + " FROM assignments WHERE " + where);
  query.bind(1, value);
  if (!query.step()) return std::nullopt;
  return read_assignment(query);
}

}  // namespace

std::optional<Assignment> find_assignment(Database& db, int64_t id) { return find_one(db, "id = ?", id); }

std::optional<Assignment> find_open_assignment(Database& db, int64_t labeler_id) {
  return find_one(db, "labeler_id = ? AND status = 'open'", labeler_id);
}

int64_t insert_assignment(Database& db, int64_t labeler_id, int64_t prompt_id,
                          const std::vector<int64_t>& shown_order, const std::string& now,
                          const std::string& expires_at) {
  db.prepare(
        "INSERT INTO assignments (labeler_id, prompt_id, shown_order, status, created_at, expires_at) "
        "VALUES (?, ?, ?, 'open', ?, ?)")
      .bind(1, labeler_id)
      .bind(2, prompt_id)
      .bind(3, nlohmann::json(shown_order).dump())
      .bind(4, now)
      .bind(5, expires_at)
      .run();
  return db.last_insert_rowid();
}

void set_assignment_status(Database& db, int64_t id, const std::string& status) {
  db.prepare("UPDATE assignments SET status = ? WHERE id = ?").bind(1, status).bind(2, id).run();
}

void set_assignment_expiry(Database& db, int64_t id, const std::string& expires_at) {
  db.prepare("UPDATE assignments SET expires_at = ? WHERE id = ?").bind(1, expires_at).bind(2, id).run();
}

AssignmentCounts count_assignments(Database& db, int64_t labeler_id) {
  Statement query = db.prepare("SELECT assigned, submitted, skipped FROM labeler_counts WHERE labeler_id = ?");
  query.bind(1, labeler_id);
  if (!query.step()) throw std::runtime_error("no assignment counts for labeler " + std::to_string(labeler_id));
  return {query.column_int(0), query.column_int(1), query.column_int(2)};
}

int64_t count_gold_among_latest(Database& db, int64_t labeler_id, int64_t latest) {
  Statement query = db.prepare(
      "SELECT count(*) FROM (SELECT p.is_gold FROM assignments a JOIN prompts p ON p.id = a.prompt_id "
      "WHERE a.labeler_id = ? ORDER BY a.id DESC LIMIT ?) WHERE is_gold = 1");
  query.bind(1, labeler_id).bind(2, latest).step();
  return query.column_int(0);
}

}  // namespace rlhf::storage
