// SQLite failures that are not bugs keep their codes: a write lock held past busy_timeout is
// busy(), a database that cannot grow is full(), and the failed transaction leaves the data as it
// was. The server maps these to 503 and 507 (labeling/write_health.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "storage/schema.h"

using namespace rlhf::storage;

namespace {

std::string temp_path(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("rlhf_storage_" + name + "_" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

int64_t single_int(Database& db, const std::string& sql) {
  Statement query = db.prepare(sql);
  query.step();
  return query.column_int(0);
}

std::string integrity(Database& db) {
  Statement query = db.prepare("PRAGMA integrity_check");
  query.step();
  return query.column_text(0);
}

}  // namespace

TEST(StorageErrors, AWriteLockHeldPastTheBusyTimeoutIsBusy) {
  const std::string path = temp_path("busy");
  Database holder = open_database(path);
  Database waiter = open_database(path);
  waiter.exec("PRAGMA busy_timeout = 50");
  Transaction held(holder);
  try {
    Transaction blocked(waiter);
    FAIL() << "BEGIN IMMEDIATE succeeded while another connection held the write lock";
  } catch (const SqliteError& error) {
    EXPECT_TRUE(error.busy()) << error.what();
    EXPECT_FALSE(error.full());
  }
}

TEST(StorageErrors, ADatabaseThatCannotGrowIsFullAndKeepsItsData) {
  const std::string path = temp_path("full");
  Database db = open_database(path);
  db.exec("CREATE TABLE notes (text TEXT NOT NULL)");
  db.exec("INSERT INTO notes VALUES ('kept')");
  // What a full disk does to SQLite, without a full disk: the file may not grow another page.
  db.exec("PRAGMA max_page_count = " + std::to_string(single_int(db, "PRAGMA page_count")));
  try {
    Transaction transaction(db);
    db.prepare("INSERT INTO notes VALUES (?)").bind(1, std::string(64 * 1024, 'x')).run();
    transaction.commit();
    FAIL() << "a 64 KiB row fitted into a database that may not grow";
  } catch (const SqliteError& error) {
    EXPECT_TRUE(error.full()) << error.what();
    EXPECT_FALSE(error.busy());
  }
  EXPECT_EQ(single_int(db, "SELECT count(*) FROM notes"), 1);
  EXPECT_EQ(integrity(db), "ok");
  db.exec("INSERT INTO notes VALUES ('small rows still fit')");  // the connection stays usable
  EXPECT_EQ(single_int(db, "SELECT count(*) FROM notes"), 2);
}

TEST(StorageErrors, OtherFailuresAreNeitherBusyNorFull) {
  Database db = open_database(":memory:");
  try {
    db.exec("INSERT INTO no_such_table VALUES (1)");
    FAIL();
  } catch (const SqliteError& error) {
    EXPECT_FALSE(error.busy());
    EXPECT_FALSE(error.full());
    EXPECT_FALSE(error.read_only());
  }
}
