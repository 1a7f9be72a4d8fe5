#include "labeling/sessions.h"

#include <algorithm>
#include <stdexcept>

#include "labeling/tokens.h"
#include "storage/clock.h"

namespace rlhf::labeling {
namespace {

using storage::Database;
using storage::format_utc;

// Timestamps beyond a year would still work, but nobody means them, and far-future times must
// stay four-digit years so that the text comparisons in SQL keep their time order.
constexpr std::chrono::seconds kLongestSetting = std::chrono::hours(24 * 365);

void check_duration(std::chrono::seconds value, const char* name) {
  if (value.count() <= 0 || value > kLongestSetting) {
    throw std::invalid_argument(std::string("session ") + name + " must be between 1 second and 365 days, not " +
                                std::to_string(value.count()) + " s");
  }
}

// A write that only keeps the table tidy or extends a session: if the database cannot take it
// right now, the request is answered all the same. Anything else is a bug and propagates.
template <typename Write>
void best_effort(Write write) {
  try {
    write();
  } catch (const storage::SqliteError& error) {
    if (!error.busy() && !error.full() && !error.read_only()) throw;
  }
}

void extend(Database& db, const std::string& id_hash, const SessionPolicy& policy, SessionClock::time_point now) {
  db.prepare("UPDATE sessions SET last_seen_at = ?, expires_at = min(?, max_expires_at) WHERE id_hash = ?")
      .bind(1, format_utc(now))
      .bind(2, format_utc(now + policy.idle_timeout))
      .bind(3, id_hash)
      .run();
}

void delete_session(Database& db, const std::string& id_hash) {
  db.prepare("DELETE FROM sessions WHERE id_hash = ?").bind(1, id_hash).run();
}

}  // namespace

void check_session_policy(const SessionPolicy& policy) {
  check_duration(policy.idle_timeout, "idle timeout");
  check_duration(policy.max_lifetime, "maximum lifetime");
}

std::string start_session(Database& db, const storage::Labeler& labeler, const SessionPolicy& policy,
                          SessionClock::time_point now) {
  const std::string id = generate_token();  // 256 bits from the kernel's CSPRNG, like a token
  const auto first_expiry = now + std::min(policy.idle_timeout, policy.max_lifetime);
  storage::Transaction transaction(db);
  delete_expired_sessions(db, now);
  db.prepare("INSERT INTO sessions (id_hash, labeler_id, created_at, last_seen_at, expires_at, max_expires_at) "
             "VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, sha256_hex(id))
      .bind(2, labeler.id)
      .bind(3, format_utc(now))
      .bind(4, format_utc(now))
      .bind(5, format_utc(first_expiry))
      .bind(6, format_utc(now + policy.max_lifetime))
      .run();
  transaction.commit();
  return id;
}

std::optional<storage::Labeler> resume_session(Database& db, const std::string& session_id,
                                               const SessionPolicy& policy, SessionClock::time_point now) {
  if (session_id.size() != 64) return std::nullopt;  // not one of ours; spare the hash and the lookup
  const std::string hash = sha256_hex(session_id);
  // Timestamps are ISO-8601 UTC text, so SQL compares them as strings in time order.
  storage::Statement query = db.prepare(
      "SELECT s.id_hash, l.name, s.expires_at <= ?, s.last_seen_at <= ? "
      "FROM sessions s JOIN labelers l ON l.id = s.labeler_id WHERE s.id_hash = ?");
  query.bind(1, format_utc(now)).bind(2, format_utc(now - policy.idle_timeout / 10)).bind(3, hash);
  if (!query.step()) return std::nullopt;
  // As for tokens: the indexed lookup cannot be steered, the final comparison is constant-time.
  if (!constant_time_equal(query.column_text(0), hash)) return std::nullopt;
  const std::string name = query.column_text(1);
  const bool expired = query.column_int(2) != 0;
  const bool extension_due = query.column_int(3) != 0;
  query.reset();  // done reading before this connection writes

  if (expired) {
    best_effort([&] { delete_session(db, hash); });
    return std::nullopt;
  }
  auto labeler = storage::find_labeler_by_name(db, name);
  // Revocation deletes the sessions; this guards a labeler deactivated some other way.
  if (!labeler || !labeler->active || labeler->role == "external") return std::nullopt;
  if (extension_due) best_effort([&] { extend(db, hash, policy, now); });
  return labeler;
}

void end_session(Database& db, const std::string& session_id) {
  if (session_id.size() != 64) return;
  delete_session(db, sha256_hex(session_id));
}

void end_labeler_sessions(Database& db, int64_t labeler_id) {
  db.prepare("DELETE FROM sessions WHERE labeler_id = ?").bind(1, labeler_id).run();
}

int delete_expired_sessions(Database& db, SessionClock::time_point now) {
  db.prepare("DELETE FROM sessions WHERE expires_at <= ?").bind(1, format_utc(now)).run();
  return db.changes();
}

}  // namespace rlhf::labeling
