#include "labeling/accounts.h"

#include <stdexcept>

#include "labeling/sessions.h"
#include "labeling/tokens.h"
#include "storage/clock.h"
#include "storage/sqlite.h"

namespace rlhf::labeling {

bool is_valid_labeler_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

NewAccount add_labeler(storage::Database& db, const std::string& name, const std::string& role) {
  if (!is_valid_labeler_name(name)) {
    throw std::runtime_error("labeler name '" + name + "' is invalid: use 1-64 characters of A-Z a-z 0-9 _ . -");
  }
  if (name == kHhLabelerName) throw std::runtime_error("labeler name '" + name + "' is reserved for imported data");
  if (role != "labeler" && role != "admin") throw std::runtime_error("role must be labeler or admin, not '" + role + "'");
  storage::Transaction transaction(db);
  if (storage::find_labeler_by_name(db, name)) throw std::runtime_error("labeler '" + name + "' already exists");
  NewAccount account{name, role, generate_token()};
  storage::insert_labeler(db, name, role, sha256_hex(account.token), storage::utc_now());
  transaction.commit();
  return account;
}

void revoke_labeler(storage::Database& db, const std::string& name) {
  storage::Transaction transaction(db);
  const auto labeler = storage::find_labeler_by_name(db, name);
  if (!labeler) throw std::runtime_error("no labeler named '" + name + "'");
  storage::set_labeler_active(db, name, false);
  end_labeler_sessions(db, labeler->id);  // signed-in browsers lose access now, not at expiry
  transaction.commit();
}

std::optional<storage::Labeler> authenticate(storage::Database& db, const std::string& token) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  const std::string hash = sha256_hex(token);
  // The indexed lookup by hash leaks nothing useful: an attacker cannot steer the hash of a
  // guess. The constant-time compare guards the final decision all the same.
  auto labeler = storage::find_labeler_by_token_hash(db, hash);
  if (!labeler || !constant_time_equal(labeler->token_hash, hash)) return std::nullopt;
  if (!labeler->active || labeler->role == "external") return std::nullopt;
  return labeler;
}

}  // namespace rlhf::labeling
