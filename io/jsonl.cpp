#include "io/jsonl.h"

#include <zlib.h>

#include <memory>
#include <stdexcept>

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

}  // namespace

std::string read_text(const fs::path& file) {
  std::unique_ptr<gzFile_s, GzCloser> in(gzopen(file.c_str(), "rb"));  // reads plain files too
  if (!in) throw std::runtime_error("cannot open " + file.string());
  std::string text;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(in.get(), buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  if (n < 0) throw std::runtime_error(file.string() + ": read error (corrupt gzip?)");
  return text;
}

std::vector<std::string> read_lines(const fs::path& file) {
  const std::string text = read_text(file);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void for_each_json_line(const fs::path& file, const std::function<void(const json&, const std::string&)>& visit) {
  auto lines = read_lines(file);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(i + 1);
    json line;
    try {
      line = json::parse(lines[i]);
    } catch (const json::parse_error& e) {
      throw std::runtime_error(where + ": invalid JSON: " + e.what());
    }
    if (!line.is_object()) throw std::runtime_error(where + ": expected a JSON object");
    visit(line, where);
  }
}

std::string required_string(const json& object, const char* field, const std::string& where) {
  if (!object.contains(field) || !object[field].is_string())
    throw std::runtime_error(where + ": field \"" + field + "\" must be a string");
  return object[field].get<std::string>();
}

}  // namespace rlhf
