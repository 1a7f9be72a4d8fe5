// Labeler accounts: creation (the token is returned once and only its hash is kept), revocation,
// and authentication of a presented token.
#pragma once

#include <optional>
#include <string>

#include "storage/labelers.h"

namespace rlhf::labeling {

// The external "labeler" that owns imported HH-RLHF comparisons; it can never log in.
constexpr const char* kHhLabelerName = "hh-rlhf";

struct NewAccount {
  std::string name;
  std::string role;
  std::string token;  // shown to the operator once
};

// Throws std::runtime_error for a bad name, a bad role or a name that exists.
NewAccount add_labeler(storage::Database& db, const std::string& name, const std::string& role);
// Deactivates the labeler and ends all their browser sessions, in one transaction. Throws if no
// labeler has that name.
void revoke_labeler(storage::Database& db, const std::string& name);
// The active labeler or admin holding this token (not a session id), if any.
std::optional<storage::Labeler> authenticate(storage::Database& db, const std::string& token);
bool is_valid_labeler_name(const std::string& name);

}  // namespace rlhf::labeling
