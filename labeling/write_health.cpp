#include "labeling/write_health.h"

namespace rlhf::labeling {
namespace {

std::optional<WriteState> state_of(const storage::SqliteError& error) {
  if (error.busy()) return WriteState::Busy;
  if (error.full()) return WriteState::Full;
  if (error.read_only()) return WriteState::ReadOnly;
  return std::nullopt;
}

}  // namespace

const char* write_state_name(WriteState state) {
  switch (state) {
    case WriteState::Ok: return "ok";
    case WriteState::Busy: return "busy";
    case WriteState::Full: return "disk_full";
    case WriteState::ReadOnly: return "read_only";
  }
  return "unknown";
}

const char* write_state_hint(WriteState state) {
  switch (state) {
    case WriteState::Busy: return "another writer held the database lock past the busy timeout";
    case WriteState::Full: return "the disk is full: free space and writes resume by themselves";
    case WriteState::ReadOnly: return "the database file or its media cannot be written";
    case WriteState::Ok: break;
  }
  return "";
}

std::optional<ApiError> storage_failure_answer(const storage::SqliteError& error) {
  const auto state = state_of(error);
  if (!state) return std::nullopt;
  switch (*state) {
    case WriteState::Busy:
      return ApiError(503, "database_busy",
                      "the database is busy with another writer; nothing was stored, retry in " +
                          std::to_string(kBusyRetryAfterSeconds) + " s");
    case WriteState::Full:
      return ApiError(507, "storage_full",
                      "the server's disk is full; nothing was stored, and an operator must free space");
    case WriteState::ReadOnly:
      return ApiError(503, "storage_read_only",
                      "the database cannot be written (read-only file or media); nothing was stored");
    case WriteState::Ok: break;
  }
  return std::nullopt;
}

void WriteHealth::failed(const storage::SqliteError& error) {
  const auto state = state_of(error);
  if (!state) return;
  std::lock_guard<std::mutex> lock(mutex_);
  set_locked(*state, error.what());
}

void WriteHealth::succeeded() {
  std::lock_guard<std::mutex> lock(mutex_);
  set_locked(WriteState::Ok, "");
}

void WriteHealth::probe_succeeded() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_ != WriteState::Full) set_locked(WriteState::Ok, "");
}

WriteState WriteHealth::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

void WriteHealth::set_locked(WriteState state, const std::string& message) {
  if (state == state_) return;
  if (state == WriteState::Ok) {
    log_ << "database writes work again" << std::endl;
  } else {
    log_ << "error: database writes fail (" << write_state_name(state) << "): " << message << std::endl;
  }
  state_ = state;
}

}  // namespace rlhf::labeling
