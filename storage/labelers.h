// Labelers: people (role labeler/admin) and external sources such as HH-RLHF (role external).
// Only a SHA-256 of each token is stored; see labeling/tokens.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"

namespace rlhf::storage {

struct Labeler {
  int64_t id = 0;
  std::string name;
  std::string role;  // "labeler", "admin" or "external"
  std::string token_hash;
  bool active = true;
  std::string created_at;
};

int64_t insert_labeler(Database& db, const std::string& name, const std::string& role,
                       const std::string& token_hash, const std::string& now);
std::optional<Labeler> find_labeler_by_name(Database& db, const std::string& name);
std::optional<Labeler> find_labeler_by_token_hash(Database& db, const std::string& token_hash);
std::vector<Labeler> list_labelers(Database& db);
// Returns false if no labeler has that name.
bool set_labeler_active(Database& db, const std::string& name, bool active);

}  // namespace rlhf::storage
