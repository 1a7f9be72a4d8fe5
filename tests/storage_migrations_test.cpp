// Schema versions: a fresh database is migrated to the latest version, an old one is upgraded in
// place keeping its rows, and a database from a newer build is refused with a clear message.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "storage/assignments.h"
#include "storage/catalog.h"
#include "storage/labelers.h"
#include "storage/prompts.h"
#include "storage/schema.h"
#include "storage/skips.h"
#include "storage/submissions.h"
#include "storage/task_queue.h"

namespace fs = std::filesystem;
using namespace rlhf::storage;

namespace {

std::string temp_db(const std::string& name) {
  const fs::path path = fs::temp_directory_path() / ("rlhf_storage_" + name + "_" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
  return path.string();
}

std::string pragma_text(Database& db, const std::string& name) {
  Statement query = db.prepare("PRAGMA " + name);
  query.step();
  return query.column_text(0);
}

int64_t count_rows(Database& db, const std::string& sql) {
  Statement query = db.prepare(sql);
  query.step();
  return query.column_int(0);
}

int64_t add_prompt(Database& db, const std::string& id, int target_labels, bool gold) {
  NewPrompt prompt;
  prompt.external_id = id;
  prompt.kind = "general";
  prompt.conversation_json = R"([{"role":"user","content":"q"}])";
  prompt.target_labels = target_labels;
  prompt.content_hash = id;
  prompt.responses = {{"a", "x", std::nullopt}, {"b", "y", std::nullopt}};
  if (gold) prompt.gold = std::vector<std::vector<std::string>>{{"a"}, {"b"}};
  return insert_prompt(db, prompt, "2025-01-01T00:00:00Z");
}

// The candidates as schema version 3 chose them: one query over every prompt (?1 labeler, ?2 now).
constexpr const char* kVersion3Candidates = R"sql(
  SELECT p.id, p.is_gold,
         p.target_labels
           - (SELECT count(*) FROM assignments a WHERE a.prompt_id = p.id AND a.status = 'submitted')
           - (SELECT count(*) FROM assignments a
                WHERE a.prompt_id = p.id AND a.status = 'open' AND a.expires_at > ?2) AS need
  FROM prompts p
  WHERE p.target_labels > 0
    AND NOT EXISTS (SELECT 1 FROM assignments mine WHERE mine.prompt_id = p.id AND mine.labeler_id = ?1)
)sql";

std::optional<int64_t> version3_pick(Database& db, int64_t labeler_id, const std::string& now, bool want_gold) {
  Statement query = db.prepare(std::string("SELECT id FROM (") + kVersion3Candidates +
                               ") WHERE is_gold = 1 OR need > 0 ORDER BY (is_gold = ?3) DESC, need DESC, id ASC LIMIT 1");
  query.bind(1, labeler_id).bind(2, now).bind(3, want_gold ? 1 : 0);
  if (!query.step()) return std::nullopt;
  return query.column_int(0);
}

int64_t version3_count(Database& db, int64_t labeler_id, const std::string& now) {
  Statement query = db.prepare(std::string("SELECT count(*) FROM (") + kVersion3Candidates + ") WHERE is_gold = 1 OR need > 0");
  query.bind(1, labeler_id).bind(2, now).step();
  return query.column_int(0);
}

}  // namespace

TEST(StorageMigrations, FreshDatabaseIsAtLatestVersionWithSeededFlags) {
  Database db = open_database(temp_db("fresh"));
  EXPECT_EQ(schema_version(db), latest_schema_version());
  const auto flags = list_flags(db);
  ASSERT_EQ(flags.size(), 9u);
  EXPECT_EQ(flags.front().code, "fails_instruction");
  EXPECT_EQ(flags.back().code, "expresses_opinion");
  EXPECT_EQ(list_skip_reasons(db).size(), 5u);
}

TEST(StorageMigrations, OpenConfiguresWalForeignKeysBusyTimeoutAndFullSync) {
  Database db = open_database(temp_db("pragmas"));
  EXPECT_EQ(pragma_text(db, "journal_mode"), "wal");
  EXPECT_EQ(pragma_text(db, "foreign_keys"), "1");
  EXPECT_EQ(pragma_text(db, "synchronous"), "2");  // FULL
  EXPECT_EQ(pragma_text(db, "busy_timeout"), "5000");
}

TEST(StorageMigrations, UpgradeFromVersionOneKeepsRowsAndAddsTheFlagTables) {
  const std::string path = temp_db("upgrade");
  {
    Database old_db(path);
    configure_connection(old_db);
    migrate(old_db, 1);
    ASSERT_EQ(schema_version(old_db), 1);
    insert_labeler(old_db, "early", "labeler", std::string(64, 'a'), "2025-01-01T00:00:00Z");
    EXPECT_THROW(old_db.exec("SELECT * FROM flags"), std::runtime_error);
  }
  Database db = open_database(path);
  EXPECT_EQ(schema_version(db), latest_schema_version());
  ASSERT_TRUE(find_labeler_by_name(db, "early").has_value());
  EXPECT_EQ(list_flags(db).size(), 9u);
}

TEST(StorageMigrations, ReopeningALatestDatabaseChangesNothing) {
  const std::string path = temp_db("reopen");
  { open_database(path); }
  Database db = open_database(path);
  EXPECT_EQ(list_flags(db).size(), 9u);  // seeds ran once, not twice
}

TEST(StorageMigrations, NewerSchemaIsRefusedWithAClearMessage) {
  const std::string path = temp_db("newer");
  {
    Database db = open_database(path);
    db.exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
  }
  try {
    open_database(path);
    FAIL() << "a newer schema must not open";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("newer than this rlhf"), std::string::npos) << message;
    EXPECT_NE(message.find(path), std::string::npos) << message;
  }
}

TEST(StorageMigrations, UpgradeToVersionFourCountsTheExistingAssignmentsAndKeepsTheQueue) {
  const std::string path = temp_db("queue");
  const std::string now = "2025-06-01T12:00:00Z";
  const std::string expired = "2025-06-01T11:00:00Z", held = "2025-06-01T13:00:00Z";
  std::vector<int64_t> labelers;
  {
    Database old_db(path);
    configure_connection(old_db);
    migrate(old_db, 3);
    for (int i = 0; i < 4; ++i) {
      labelers.push_back(insert_labeler(old_db, "l" + std::to_string(i), "labeler", std::string(63, 'a') + std::to_string(i), now));
    }
    std::vector<int64_t> prompts;
    for (int i = 0; i < 12; ++i) prompts.push_back(add_prompt(old_db, "p" + std::to_string(i), i == 11 ? 0 : 1 + i % 3, i % 4 == 1));
    // Every state an assignment can be in. Answered or skipped: a different run of prompts for
    // each labeler, so that some prompts pass their target...
    for (size_t l = 0; l < labelers.size(); ++l) {
      for (size_t p = l % 2; p < 9; p += 1 + l % 2) {
        const int64_t id = insert_assignment(old_db, labelers[l], prompts[p], {}, now, held);
        if ((p + l) % 3 == 0) {
          insert_skip(old_db, id, "other", "", now);
        } else {
          NewSubmission submission;
          submission.assignment_id = id;
          submission.labeler_id = labelers[l];
          submission.idempotency_key = "key-" + std::to_string(id);
          submission.request_json = "{}";
          insert_submission(old_db, submission, now);
        }
      }
      // ...and one open assignment each: held by some, expired for the others.
      insert_assignment(old_db, labelers[l], prompts[9 + l % 2], {}, now, l % 2 ? expired : held);
    }
  }
  Database db = open_database(path);
  EXPECT_EQ(schema_version(db), 4);
  ASSERT_GT(count_rows(db, "SELECT count(*) FROM assignments WHERE status = 'open' AND expires_at > '" + now + "'"), 0);
  ASSERT_GT(count_rows(db, "SELECT count(*) FROM assignments WHERE status = 'open' AND expires_at <= '" + now + "'"), 0);
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM prompts WHERE submitted_labels != (SELECT count(*) FROM assignments a "
                           "WHERE a.prompt_id = prompts.id AND a.status = 'submitted')"), 0);
  EXPECT_GT(count_rows(db, "SELECT count(*) FROM prompts WHERE submitted_labels > target_labels"), 0);
  for (const int64_t labeler : labelers) {
    const std::string mine = "SELECT count(*) FROM assignments WHERE labeler_id = " + std::to_string(labeler);
    const AssignmentCounts counts = count_assignments(db, labeler);
    EXPECT_EQ(counts.all, count_rows(db, mine));
    EXPECT_EQ(counts.submitted, count_rows(db, mine + " AND status = 'submitted'"));
    EXPECT_EQ(counts.skipped, count_rows(db, mine + " AND status = 'skipped'"));
    EXPECT_EQ(count_available_prompts(db, labeler, now), version3_count(db, labeler, now)) << "labeler " << labeler;
    for (const bool want_gold : {false, true}) {
      EXPECT_EQ(pick_next_prompt(db, labeler, now, want_gold), version3_pick(db, labeler, now, want_gold))
          << "labeler " << labeler << (want_gold ? ", gold first" : "");
    }
  }
  // The counters keep counting after the upgrade.
  Transaction transaction(db);
  const int64_t late = insert_labeler(db, "late", "labeler", std::string(64, 'b'), now);
  const auto prompt = pick_next_prompt(db, late, now, false);
  ASSERT_TRUE(prompt.has_value());
  insert_assignment(db, late, *prompt, {}, now, held);
  transaction.commit();
  EXPECT_EQ(count_available_prompts(db, late, now), version3_count(db, late, now));
  EXPECT_EQ(count_assignments(db, late).all, 1);
}
