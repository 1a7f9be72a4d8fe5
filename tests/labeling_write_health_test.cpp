// Storage failures that are not bugs get their own answers (503 with a retry, 507) and are logged
// once per episode, not once per request.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <sstream>

#include "labeling/write_health.h"
#include "storage/schema.h"

using namespace rlhf;
using labeling::WriteHealth;
using labeling::WriteState;

namespace {

// A real SQLITE_FULL: the in-memory database may not grow past its current size.
storage::SqliteError full_error() {
  storage::Database db = storage::open_database(":memory:");
  db.exec("CREATE TABLE t (x TEXT)");
  db.exec("PRAGMA max_page_count = 2");
  try {
    for (int i = 0; i < 100; ++i) db.prepare("INSERT INTO t VALUES (?)").bind(1, std::string(4096, 'x')).run();
  } catch (const storage::SqliteError& error) {
    return error;
  }
  throw std::logic_error("max_page_count did not stop the inserts");
}

storage::SqliteError busy_error() { return storage::SqliteError("database is locked", SQLITE_BUSY, 0); }

size_t lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST(LabelingWriteHealth, AFullDiskIs507AndABusyLockIs503) {
  const auto full = labeling::storage_failure_answer(full_error());
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 507);
  EXPECT_EQ(full->code, "storage_full");
  EXPECT_NE(std::string(full->what()).find("disk is full"), std::string::npos) << full->what();
  const auto busy = labeling::storage_failure_answer(busy_error());
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->code, "database_busy");
  EXPECT_FALSE(labeling::storage_failure_answer(storage::SqliteError("no such table", SQLITE_ERROR, 0)));  // a bug: 500
}

TEST(LabelingWriteHealth, EachEpisodeIsLoggedOnceAndItsEnd) {
  std::ostringstream log;
  WriteHealth health(log);
  for (int i = 0; i < 50; ++i) health.failed(full_error());
  EXPECT_EQ(health.state(), WriteState::Full);
  EXPECT_EQ(lines(log.str()), 1u) << log.str();
  EXPECT_NE(log.str().find("disk_full"), std::string::npos) << log.str();
  health.probe_succeeded();  // a probe commit does not show there is room for a submission
  EXPECT_EQ(health.state(), WriteState::Full);
  health.succeeded();
  health.succeeded();
  EXPECT_EQ(health.state(), WriteState::Ok);
  EXPECT_EQ(lines(log.str()), 2u) << log.str();
  health.failed(busy_error());
  health.failed(busy_error());
  EXPECT_EQ(health.state(), WriteState::Busy);
  health.probe_succeeded();  // the probe took the lock: it is free again
  EXPECT_EQ(health.state(), WriteState::Ok);
  EXPECT_EQ(lines(log.str()), 4u) << log.str();
}
