#include "text/utf8.h"

#include <nlohmann/json.hpp>

namespace rlhf {

std::string valid_utf8(const std::string& text) {
  // nlohmann's serializer already implements the replacement; a round trip through a JSON string
  // literal reuses it instead of a second hand-written UTF-8 decoder.
  using nlohmann::json;
  return json::parse(json(text).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

std::string clean_answer(const std::string& text) {
  const auto a = text.find_first_not_of(" \n\t"), b = text.find_last_not_of(" \n\t");
  return valid_utf8(a == std::string::npos ? "" : text.substr(a, b - a + 1));
}

}  // namespace rlhf
