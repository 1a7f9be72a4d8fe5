#include "io/config.h"

#include <algorithm>
#include <stdexcept>

#include "io/atomic_file.h"

namespace rlhf {

using nlohmann::json;

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const char* type_name(const json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  return value.type_name();
}

bool same_kind(const json& given, const json& expected) {
  if (expected.is_null()) return true;  // optional field: anything goes
  if (expected.is_number_integer()) return given.is_number_integer();  // unsigned counts as integer
  if (expected.is_number()) return given.is_number();
  return given.type() == expected.type();
}

}  // namespace

std::string closest_key(const std::string& key, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(3, key.size() / 2) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(key, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  return best;
}

void check_config_keys(const json& given, const json& defaults, const std::string& source, const std::string& path) {
  if (!given.is_object()) throw std::runtime_error(source + ": " + (path.empty() ? "the config" : path) + " must be a JSON object");
  if (defaults.empty()) return;  // free-form object
  std::vector<std::string> valid;
  for (const auto& item : defaults.items()) valid.push_back(item.key());
  for (const auto& [key, value] : given.items()) {
    const std::string full = path.empty() ? key : path + "." + key;
    if (!defaults.contains(key)) {
      auto hint = closest_key(key, valid);
      std::string valid_keys;
      for (const auto& v : valid) valid_keys += (valid_keys.empty() ? "" : ", ") + v;
      throw std::runtime_error(source + ": unknown key \"" + full + "\"" +
                               (hint.empty() ? " (valid keys: " + valid_keys + ")"
                                             : " (did you mean \"" + (path.empty() ? hint : path + "." + hint) + "\"?)"));
    }
    const json& expected = defaults.at(key);
    if (!same_kind(value, expected))
      throw std::runtime_error(source + ": key \"" + full + "\" must be a " + type_name(expected) + ", got " +
                               type_name(value) + " " + value.dump());
    if (expected.is_object()) check_config_keys(value, expected, source, full);
  }
}

void apply_override(json& config, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::runtime_error("--set " + assignment + ": expected KEY=VALUE, e.g. --set train.lr=3e-4");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;
  json* node = &config;
  size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw std::runtime_error("--set " + assignment + ": empty key segment");
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    node = &(*node)[part];
    if (!node->is_object()) *node = json::object();
    start = dot + 1;
  }
}

}  // namespace rlhf
