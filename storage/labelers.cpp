#include "storage/labelers.h"

namespace rlhf::storage {
namespace {

constexpr const char* kColumns = "id, name, role, token_hash, active, created_at";

Labeler read_labeler(const Statement& row) {
  Labeler labeler;
  labeler.id = row.column_int(0);
  labeler.name = row.column_text(1);
  labeler.role = row.column_text(2);
  labeler.token_hash = row.column_text(3);
  labeler.active = row.column_int(4) != 0;
  labeler.created_at = row.column_text(5);
  return labeler;
}

std::optional<Labeler> find_one(Database& db, const std::string& where, const std::string& value) {
  Statement query = db.prepare(std::string("SELECT ") + kColumns + " FROM labelers WHERE " + where);
  query.bind(1, value);
  if (!query.step()) return std::nullopt;
  return read_labeler(query);
}

}  // namespace

int64_t insert_labeler(Database& db, const std::string& name, const std::string& role,
                       const std::string& token_hash, const std::string& now) {
  db.prepare("INSERT INTO labelers (name, role, token_hash, active, created_at) VALUES (?, ?, ?, 1, ?)")
      .bind(1, name)
      .bind(2, role)
      .bind(3, token_hash)
      .bind(4, now)
      .run();
  return db.last_insert_rowid();
}

std::optional<Labeler> find_labeler_by_name(Database& db, const std::string& name) {
  return find_one(db, "name = ?", name);
}

std::optional<Labeler> find_labeler_by_token_hash(Database& db, const std::string& token_hash) {
  return find_one(db, "token_hash = ?", token_hash);
}

std::vector<Labeler> list_labelers(Database& db) {
  Statement query = db.prepare(std::string("SELECT ") + kColumns + " FROM labelers ORDER BY id");
  std::vector<Labeler> labelers;
  while (query.step()) labelers.push_back(read_labeler(query));
  return labelers;
}

bool set_labeler_active(Database& db, const std::string& name, bool active) {
  db.prepare("UPDATE labelers SET active = ? WHERE name = ?").bind(1, active ? 1 : 0).bind(2, name).run();
  return db.changes() > 0;
}

}  // namespace rlhf::storage
