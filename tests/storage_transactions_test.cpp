// The RAII layer: a transaction that is not committed rolls back, including when an exception
// unwinds through it; statements report SQLite errors with the SQL that failed.
#include <gtest/gtest.h>

#include <stdexcept>

#include "storage/labelers.h"
#include "storage/schema.h"

using namespace rlhf::storage;

namespace {

int64_t labeler_count(Database& db) {
  Statement query = db.prepare("SELECT count(*) FROM labelers");
  query.step();
  return query.column_int(0);
}

void add(Database& db, const std::string& name) {
  insert_labeler(db, name, "labeler", std::string(64, name[0]), "2025-01-01T00:00:00Z");
}

}  // namespace

TEST(StorageTransactions, UncommittedTransactionRollsBackAtScopeExit) {
  Database db = open_database(":memory:");
  {
    Transaction transaction(db);
    add(db, "ann");
    EXPECT_EQ(labeler_count(db), 1);
  }
  EXPECT_EQ(labeler_count(db), 0);
}

TEST(StorageTransactions, CommittedTransactionPersists) {
  Database db = open_database(":memory:");
  {
    Transaction transaction(db);
    add(db, "ann");
    transaction.commit();
  }
  EXPECT_EQ(labeler_count(db), 1);
}

TEST(StorageTransactions, ExceptionUnwindingThroughATransactionLeavesNothing) {
  Database db = open_database(":memory:");
  EXPECT_THROW(
      {
        Transaction transaction(db);
        add(db, "ann");
        add(db, "ann");  // UNIQUE(name) fails: the first row must go too
        transaction.commit();
      },
      std::runtime_error);
  EXPECT_EQ(labeler_count(db), 0);
  add(db, "bea");  // the connection is usable again (no transaction left open)
  EXPECT_EQ(labeler_count(db), 1);
}

TEST(StorageTransactions, StatementErrorsNameTheSql) {
  Database db = open_database(":memory:");
  try {
    db.prepare("SELECT nope FROM labelers");
    FAIL();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("SELECT nope"), std::string::npos) << error.what();
  }
}

TEST(StorageTransactions, MovedStatementStillRuns) {
  Database db = open_database(":memory:");
  Statement first = db.prepare("SELECT 41 + 1");
  Statement moved = std::move(first);
  ASSERT_TRUE(moved.step());
  EXPECT_EQ(moved.column_int(0), 42);
}
