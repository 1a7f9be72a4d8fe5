#include "labeling/json_fields.h"

#include <algorithm>

namespace rlhf::labeling {

void require_object(const json& value, const std::string& field) {
  if (!value.is_object()) throw FieldError(field, "must be a JSON object");
}

void reject_unknown_fields(const json& object, std::initializer_list<std::string_view> allowed,
                           const std::string& prefix) {
  for (const auto& item : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) {
      throw FieldError(prefix + item.key(), "unknown field '" + item.key() + "'");
    }
  }
}

// Well-formed UTF-8 per RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2, code = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3, code = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4, code = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    static const uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < minimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

std::string checked_string(const json& value, size_t max_bytes, const std::string& field,
                           bool allow_empty) {
  if (!value.is_string()) throw FieldError(field, "must be a string");
  const auto& text = value.get_ref<const std::string&>();
  if (!allow_empty && text.empty()) throw FieldError(field, "must not be empty");
  if (text.size() > max_bytes) {
    throw FieldError(field, "is too long (" + std::to_string(text.size()) + " bytes, at most " +
                                std::to_string(max_bytes) + ")");
  }
  if (!is_valid_utf8(text)) throw FieldError(field, "is not valid UTF-8");
  return text;
}

std::string required_string(const json& object, const std::string& key, size_t max_bytes,
                            const std::string& field, bool allow_empty) {
  if (!object.contains(key)) throw FieldError(field, "is required");
  return checked_string(object.at(key), max_bytes, field, allow_empty);
}

std::optional<std::string> optional_string(const json& object, const std::string& key,
                                           size_t max_bytes, const std::string& field) {
  if (!object.contains(key) || object.at(key).is_null()) return std::nullopt;
  return checked_string(object.at(key), max_bytes, field, true);
}

std::optional<std::string> optional_text(const json& object, const std::string& key, size_t max_chars,
                                         const std::string& field) {
  if (!object.contains(key) || object.at(key).is_null()) return std::nullopt;
  const json& value = object.at(key);
  if (!value.is_string()) throw FieldError(field, "must be a string");
  const auto& text = value.get_ref<const std::string&>();
  if (!is_valid_utf8(text)) throw FieldError(field, "is not valid UTF-8");
  // In valid UTF-8 every code point has exactly one byte that is not a continuation byte.
  const auto chars = static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  if (chars > max_chars) {
    throw FieldError(field, "is too long (" + std::to_string(chars) + " characters, at most " +
                                std::to_string(max_chars) + ")");
  }
  return text;
}

std::optional<int64_t> optional_integer(const json& object, const std::string& key, int64_t min,
                                        int64_t max, const std::string& field) {
  if (!object.contains(key) || object.at(key).is_null()) return std::nullopt;
  const json& value = object.at(key);
  if (!value.is_number_integer()) throw FieldError(field, "must be an integer");
  // Read as signed; an unsigned number beyond int64 range is out of range either way.
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max)) {
    throw FieldError(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  const auto number = value.get<int64_t>();
  if (number < min || number > max) {
    throw FieldError(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return number;
}

}  // namespace rlhf::labeling
