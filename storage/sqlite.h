// A small RAII layer over the SQLite C API: a connection that closes itself, a move-only prepared
// statement that finalizes itself, and a transaction that rolls back unless committed. Every error
// throws SqliteError (a std::runtime_error) with SQLite's message, its codes and the SQL that failed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace rlhf::storage {

// What SQLite reported, so that callers can tell a condition that passes (another writer holds
// the lock) or needs an operator (the disk is full) from a bug.
struct SqliteError : std::runtime_error {
  SqliteError(const std::string& message, int code, int system_errno)
      : std::runtime_error(message), code(code), system_errno(system_errno) {}
  int code;          // extended result code (SQLITE_BUSY, SQLITE_IOERR_WRITE, ...)
  int system_errno;  // errno of the failed system call, 0 if none

  bool busy() const;       // the lock stayed taken past busy_timeout
  bool full() const;       // no space left: SQLITE_FULL, or an I/O error with ENOSPC/EDQUOT
  bool read_only() const;  // the file or its directory cannot be written
};

struct Sqlite3Closer {
  void operator()(sqlite3* db) const;
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const;
};

class Statement;

class Database {
 public:
  // Opens (creating if needed) the file; ":memory:" works for tests. Sets no pragmas: see
  // open_database() in schema.h for the configured, migrated connection.
  explicit Database(const std::string& path);

  void exec(std::string_view sql);  // one or more statements without parameters
  Statement prepare(std::string_view sql);
  int64_t last_insert_rowid() const;
  int changes() const;
  int64_t total_changes() const;  // rows changed since the connection opened (a write happened)
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_.get(); }

 private:
  std::unique_ptr<sqlite3, Sqlite3Closer> db_;
  std::string path_;
};

// Binds are 1-based like SQLite; columns are 0-based like SQLite.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind_null(int index);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Returns true while a row is available; false when done.
  bool step();
  // Runs a statement that returns no rows (INSERT/UPDATE/DELETE).
  void run();
  void reset();

  bool is_null(int column) const;
  int64_t column_int(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  std::optional<int64_t> column_optional_int(int column) const;
  std::optional<std::string> column_optional_text(int column) const;

 private:
  [[noreturn]] void fail(const char* what) const;

  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, StatementFinalizer> stmt_;
};

// Rolls back in its destructor unless commit() ran. A write transaction is BEGIN IMMEDIATE: it
// takes the write lock up front, so two writers never deadlock upgrading from a read lock
// (busy_timeout makes the second one wait). A read transaction gives a consistent snapshot.
class Transaction {
 public:
  enum class Mode { Write, Read };
  explicit Transaction(Database& db, Mode mode = Mode::Write);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace rlhf::storage
