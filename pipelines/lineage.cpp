#include "pipelines/lineage.h"

#include "storage/clock.h"

namespace rlhf {

Lineage::Lineage(const std::string& path) : db_(path) {
  db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;");
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS stage_runs (
      id INTEGER PRIMARY KEY,
      stage TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'waiting')),
      output_hash TEXT NOT NULL DEFAULT '',
      started_at TEXT NOT NULL,
      finished_at TEXT,
      seconds REAL,
      message TEXT
    );
    CREATE TABLE IF NOT EXISTS artifacts (
      run_id INTEGER NOT NULL REFERENCES stage_runs(id),
      role TEXT NOT NULL CHECK (role IN ('input', 'output')),
      path TEXT NOT NULL,
      hash TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS stage_runs_by_stage ON stage_runs(stage, id);
  )");
}

std::optional<StageRun> Lineage::latest(const std::string& stage) {
  auto q = db_.prepare(
      "SELECT id, stage, fingerprint, status, output_hash, COALESCE(seconds, 0) FROM stage_runs WHERE stage = ? "
      "ORDER BY id DESC LIMIT 1");
  q.bind(1, stage);
  if (!q.step()) return std::nullopt;
  return StageRun{q.column_int(0), q.column_text(1), q.column_text(2), q.column_text(3), q.column_text(4),
                  q.column_double(5)};
}

int64_t Lineage::begin(const std::string& stage, const std::string& fingerprint, const std::vector<Artifact>& inputs) {
  storage::Transaction t(db_);
  db_.prepare("INSERT INTO stage_runs (stage, fingerprint, status, started_at) VALUES (?, ?, 'running', ?)")
      .bind(1, stage)
      .bind(2, fingerprint)
      .bind(3, storage::utc_now())
      .run();
  const int64_t id = db_.last_insert_rowid();
  auto insert = db_.prepare("INSERT INTO artifacts (run_id, role, path, hash) VALUES (?, 'input', ?, ?)");
  for (const auto& a : inputs) {
    insert.reset();
    insert.bind(1, id).bind(2, a.path).bind(3, a.hash).run();
  }
  t.commit();
  return id;
}

void Lineage::finish(int64_t run_id, const std::string& status, double seconds, const std::string& output_hash,
                     const std::vector<Artifact>& outputs, const std::string& message) {
  storage::Transaction t(db_);
  db_.prepare("UPDATE stage_runs SET status = ?, seconds = ?, output_hash = ?, finished_at = ?, message = ? WHERE id = ?")
      .bind(1, status)
      .bind(2, seconds)
      .bind(3, output_hash)
      .bind(4, storage::utc_now())
      .bind(5, message)
      .bind(6, run_id)
      .run();
  auto insert = db_.prepare("INSERT INTO artifacts (run_id, role, path, hash) VALUES (?, 'output', ?, ?)");
  for (const auto& a : outputs) {
    insert.reset();
    insert.bind(1, run_id).bind(2, a.path).bind(3, a.hash).run();
  }
  t.commit();
}

std::vector<Artifact> Lineage::artifacts(int64_t run_id) {
  auto q = db_.prepare("SELECT role, path, hash FROM artifacts WHERE run_id = ? ORDER BY rowid");
  q.bind(1, run_id);
  std::vector<Artifact> out;
  while (q.step()) out.push_back({q.column_text(0), q.column_text(1), q.column_text(2)});
  return out;
}

}  // namespace rlhf
