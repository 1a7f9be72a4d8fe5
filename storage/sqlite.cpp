#include "storage/sqlite.h"

#include <sqlite3.h>

#include <cerrno>
#include <stdexcept>

namespace rlhf::storage {
namespace {

[[noreturn]] void throw_error(sqlite3* db, int rc, const std::string& message) {
  const int code = db ? sqlite3_extended_errcode(db) : rc;
  throw SqliteError(message, code, db ? sqlite3_system_errno(db) : 0);
}

}  // namespace

bool SqliteError::busy() const { return (code & 0xff) == SQLITE_BUSY; }

bool SqliteError::full() const {
  const int primary = code & 0xff;
  return primary == SQLITE_FULL ||
         (primary == SQLITE_IOERR && (system_errno == ENOSPC || system_errno == EDQUOT));
}

bool SqliteError::read_only() const { return (code & 0xff) == SQLITE_READONLY; }

void Sqlite3Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void StatementFinalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

Database::Database(const std::string& path) : path_(path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);  // sqlite3_open_v2 allocates a handle even on failure; it must still be closed
  if (rc != SQLITE_OK) {
    std::string message = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw SqliteError("cannot open database " + path + ": " + message, rc, raw ? sqlite3_system_errno(raw) : 0);
  }
  sqlite3_extended_result_codes(raw, 1);
}

void Database::exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db_.get());
    sqlite3_free(error);
    throw_error(db_.get(), rc, "sqlite (" + path_ + "): " + message + " in: " + text.substr(0, 200));
  }
}

Statement Database::prepare(std::string_view sql) { return Statement(*this, sql); }

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

int Database::changes() const { return sqlite3_changes(db_.get()); }

int64_t Database::total_changes() const { return sqlite3_total_changes64(db_.get()); }

Statement::Statement(Database& db, std::string_view sql) : db_(db.handle()) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  stmt_.reset(raw);
  if (rc != SQLITE_OK) {
    throw_error(db_, rc, "sqlite: cannot prepare: " + std::string(sqlite3_errmsg(db_)) +
                             " in: " + std::string(sql.substr(0, 200)));
  }
}

void Statement::fail(const char* what) const {
  throw_error(db_, SQLITE_ERROR, std::string("sqlite: ") + what + ": " + sqlite3_errmsg(db_) +
                                     " in: " + std::string(sqlite3_sql(stmt_.get())).substr(0, 200));
}

Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_.get(), index, value) != SQLITE_OK) fail("bind");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_.get(), index, value) != SQLITE_OK) fail("bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the bytes, so the caller's string may die before step().
  if (sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK) {
    fail("bind");
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_.get(), index) != SQLITE_OK) fail("bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail("step");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

int64_t Statement::column_int(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

double Statement::column_double(int column) const {
  return sqlite3_column_double(stmt_.get(), column);
}

std::string Statement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  int size = sqlite3_column_bytes(stmt_.get(), column);
  return text ? std::string(reinterpret_cast<const char*>(text), size) : std::string();
}

std::optional<int64_t> Statement::column_optional_int(int column) const {
  if (is_null(column)) return std::nullopt;
  return column_int(column);
}

std::optional<std::string> Statement::column_optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return column_text(column);
}

Transaction::Transaction(Database& db, Mode mode) : db_(db) {
  db_.exec(mode == Mode::Write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    db_.exec("ROLLBACK");
  } catch (...) {
    // A destructor must not throw; SQLite may already have rolled back after an I/O error.
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace rlhf::storage
