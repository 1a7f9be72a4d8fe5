#include "storage/skips.h"

#include "storage/assignments.h"

namespace rlhf::storage {

void insert_skip(Database& db, int64_t assignment_id, const std::string& reason,
                 const std::string& comment, const std::string& now) {
  db.prepare("INSERT INTO skips (assignment_id, reason, comment, created_at) VALUES (?, ?, ?, ?)")
      .bind(1, assignment_id)
      .bind(2, reason)
      .bind(3, comment)
      .bind(4, now)
      .run();
  set_assignment_status(db, assignment_id, "skipped");
}

std::optional<Skip> find_skip(Database& db, int64_t assignment_id) {
  Statement query = db.prepare("SELECT assignment_id, reason, comment, created_at FROM skips WHERE assignment_id = ?");
  query.bind(1, assignment_id);
  if (!query.step()) return std::nullopt;
  return Skip{query.column_int(0), query.column_text(1), query.column_text(2), query.column_text(3)};
}

}  // namespace rlhf::storage
