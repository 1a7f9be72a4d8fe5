// What the service answers, logs and reports on /healthz when the database cannot take a write:
// another writer holds the lock past busy_timeout (503 with Retry-After: retrying is the fix), the
// disk is full (507) or the file cannot be written (503). None of these is a bug, so none is a
// 500; the failed write was rolled back, so the database is as it was. Each condition is logged
// when it starts and when writes work again, not per request: a full disk under a room of
// retrying labelers would otherwise bury the log.
#pragma once

#include <mutex>
#include <optional>
#include <ostream>
#include <string>

#include "labeling/api_error.h"
#include "storage/sqlite.h"

namespace rlhf::labeling {

// Seconds a client is asked to wait after a 503 for a held write lock.
constexpr int kBusyRetryAfterSeconds = 2;

enum class WriteState { Ok, Busy, Full, ReadOnly };

// "ok", "busy", "disk_full", "read_only": the /healthz "writes" field.
const char* write_state_name(WriteState state);
// One line for an operator about a state other than Ok (no paths: /healthz is public).
const char* write_state_hint(WriteState state);

// The answer for a storage failure that a client or an operator can act on; nullopt for anything
// else (a bug: 500).
std::optional<ApiError> storage_failure_answer(const storage::SqliteError& error);

class WriteHealth {
 public:
  explicit WriteHealth(std::ostream& log) : log_(log) {}

  // A write failed with a busy, full or read-only error (others are ignored).
  void failed(const storage::SqliteError& error);
  // A write committed: whatever failed before works again.
  void succeeded();
  // The health probe took the write lock and committed: proves the lock is free and the file
  // writable, but not that the disk has room for a submission, so a full disk stays reported
  // until a real write commits.
  void probe_succeeded();

  WriteState state() const;

 private:
  void set_locked(WriteState state, const std::string& message);  // mutex_ held

  std::ostream& log_;
  mutable std::mutex mutex_;
  WriteState state_ = WriteState::Ok;
};

}  // namespace rlhf::labeling
