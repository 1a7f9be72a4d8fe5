// Strict reading of JSON input: unknown fields, wrong types, invalid UTF-8 and oversize text
// are errors naming the field, never silently dropped or truncated.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rlhf::labeling {

using nlohmann::json;

// A problem with one field; callers add context (HTTP 422, or the import line number).
struct FieldError : std::runtime_error {
  FieldError(std::string field, const std::string& message)
      : std::runtime_error(message), field(std::move(field)) {}
  std::string field;
};

// Throws FieldError unless value is an object whose keys are all in allowed.
void require_object(const json& value, const std::string& field);
void reject_unknown_fields(const json& object, std::initializer_list<std::string_view> allowed,
                           const std::string& prefix = "");

bool is_valid_utf8(std::string_view text);

// object[key] as a string of 1..max_bytes valid UTF-8 bytes (or 0..max when allow_empty).
std::string required_string(const json& object, const std::string& key, size_t max_bytes,
                            const std::string& field, bool allow_empty = false);
std::optional<std::string> optional_string(const json& object, const std::string& key,
                                           size_t max_bytes, const std::string& field);
// object[key] as valid UTF-8 of at most max_chars characters (Unicode code points, what people
// and the page count), or nullopt when absent or null. Free text such as comments.
std::optional<std::string> optional_text(const json& object, const std::string& key, size_t max_chars,
                                         const std::string& field);
std::optional<int64_t> optional_integer(const json& object, const std::string& key, int64_t min,
                                        int64_t max, const std::string& field);
// Checks a string that did not come from an object key (e.g. array elements).
std::string checked_string(const json& value, size_t max_bytes, const std::string& field,
                           bool allow_empty = false);

}  // namespace rlhf::labeling
