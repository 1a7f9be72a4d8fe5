// Files a stage reads and writes beside its checkpoints: input lists, JSON files, the resolved config
// and the summary, and content hashes for caches keyed by their inputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rlhf {

// Expands directories to the regular files inside them (sorted); a missing path is an error naming it.
std::vector<std::filesystem::path> expand_files(const std::vector<std::string>& paths, const std::string& field);

// A whole JSON file; a missing file or invalid JSON is an error naming the path.
nlohmann::json read_json_file(const std::filesystem::path& path);

// Writes OUT/config.json (the resolved config) atomically.
void save_resolved_config(const std::filesystem::path& out_dir, const nlohmann::json& config);
// Writes OUT/summary.json atomically.
void save_summary(const std::filesystem::path& out_dir, const nlohmann::json& summary);

// Hash of the contents of files (order matters), for caches keyed by their inputs.
uint64_t hash_files(const std::vector<std::filesystem::path>& files, uint64_t seed = 0);

}  // namespace rlhf
