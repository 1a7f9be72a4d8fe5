// Schema versions: a fresh database is migrated to the latest version, an old one is upgraded in
// place keeping its rows, and a database from a newer build is refused with a clear message.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "storage/catalog.h"
#include "storage/labelers.h"
#include "storage/schema.h"

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
