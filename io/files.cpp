#include "io/files.h"

#include <algorithm>
#include <stdexcept>

#include "io/atomic_file.h"
#include "io/stable_hash.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<fs::path> expand_files(const std::vector<std::string>& paths, const std::string& field) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      std::vector<fs::path> inside;
      for (const auto& entry : fs::directory_iterator(p))
        if (entry.is_regular_file()) inside.push_back(entry.path());
      std::sort(inside.begin(), inside.end());
      out.insert(out.end(), inside.begin(), inside.end());
    } else if (fs::is_regular_file(p)) {
      out.emplace_back(p);
    } else {
      throw std::runtime_error(field + ": \"" + p + "\" does not exist");
    }
  }
  if (out.empty()) throw std::runtime_error(field + ": no input files");
  return out;
}

json read_json_file(const fs::path& path) {
  if (!fs::exists(path)) throw std::runtime_error(path.string() + ": no such file");
  try {
    return json::parse(read_file(path));
  } catch (const json::parse_error& e) {
    throw std::runtime_error(path.string() + ": invalid JSON: " + e.what());
  }
}

void save_resolved_config(const fs::path& out_dir, const json& config) {
  fs::create_directories(out_dir);
  write_file_atomic(out_dir / "config.json", config.dump(2) + "\n");
}

void save_summary(const fs::path& out_dir, const json& summary) {
  write_file_atomic(out_dir / "summary.json", summary.dump(2) + "\n");
}

uint64_t hash_files(const std::vector<fs::path>& files, uint64_t seed) {
  uint64_t h = seed;
  for (const auto& f : files) h = stable_hash(std::to_string(h) + read_file(f));
  return h;
}

}  // namespace rlhf
