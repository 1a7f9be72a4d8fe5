// Browser sessions. Logging in trades a labeler's permanent token for a random session id, and the
// cookie carries only that id: a captured cookie dies at logout, at revocation, after an idle
// time or at a maximum age, whichever comes first, while the token itself never reaches the
// cookie jar. The database keeps only the id's SHA-256 (as for tokens), so a leaked database does
// not leak live sessions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "storage/labelers.h"
#include "storage/sqlite.h"

namespace rlhf::labeling {

using SessionClock = std::chrono::system_clock;

struct SessionPolicy {
  // A session unused this long ends. It is extended at most once per tenth of this time (a write
  // per request would cost an fsync each), so it may end up to a tenth sooner.
  std::chrono::seconds idle_timeout = std::chrono::hours(12);
  // No session outlives this, however busy; also the cookie's Max-Age.
  std::chrono::seconds max_lifetime = std::chrono::hours(24 * 7);
};

// Throws std::invalid_argument naming the setting if a time is not positive.
void check_session_policy(const SessionPolicy& policy);

// Stores a new session for this labeler and returns its id (64 hex characters), which only the
// browser keeps. Deletes expired sessions on the way, so the table holds little more than the
// live ones.
std::string start_session(storage::Database& db, const storage::Labeler& labeler, const SessionPolicy& policy,
                          SessionClock::time_point now);

// The active labeler behind a live session id, or nothing. An expired session is deleted; a live
// one is extended when due. Those two writes are best effort: if the database cannot take them
// (busy, full disk) the answer is the same and the next request tries again.
std::optional<storage::Labeler> resume_session(storage::Database& db, const std::string& session_id,
                                               const SessionPolicy& policy, SessionClock::time_point now);

// Ends one session (logout); an unknown id is not an error.
void end_session(storage::Database& db, const std::string& session_id);
// Ends every session of a labeler (revocation). Runs inside the caller's transaction, if any.
void end_labeler_sessions(storage::Database& db, int64_t labeler_id);
// Deletes every session that has expired by now; returns how many.
int delete_expired_sessions(storage::Database& db, SessionClock::time_point now);

}  // namespace rlhf::labeling
