// JSON configs into plain structs with defaults (NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT).
// That macro ignores unknown keys and names no field in type errors, so every given key is checked
// against the defaults first: an unknown key or a wrong type is an error naming the source, the key
// and the closest valid key.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "io/files.h"

namespace rlhf {

// Throws for keys of `given` that `defaults` lacks (objects are checked recursively; an empty default
// object accepts any keys) and for values whose JSON type differs from the default's.
void check_config_keys(const nlohmann::json& given, const nlohmann::json& defaults, const std::string& source,
                       const std::string& path = "");

// "a.b=value": value is parsed as JSON when it parses (numbers, true, [1,2]), else taken as a string.
void apply_override(nlohmann::json& config, const std::string& assignment);

// The closest candidate by edit distance ("" when none is reasonably close).
std::string closest_key(const std::string& key, const std::vector<std::string>& candidates);

// Defaults <- file (may be empty: defaults only) <- --set overrides, each checked, then converted.
template <class T>
T load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides = {}) {
  const nlohmann::json defaults = T{};
  nlohmann::json merged = defaults;
  if (!file.empty()) {
    auto given = read_json_file(file);
    check_config_keys(given, defaults, file.string());
    merged.merge_patch(given);
  }
  for (const auto& assignment : overrides) {
    nlohmann::json patch = nlohmann::json::object();
    apply_override(patch, assignment);
    check_config_keys(patch, defaults, "--set " + assignment);
    merged.merge_patch(patch);
  }
  try {
    return merged.get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error((file.empty() ? std::string("config") : file.string()) + ": " + e.what());
  }
}

}  // namespace rlhf
