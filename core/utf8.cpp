#include "core/utf8.h"

#include <nlohmann/json.hpp>

namespace rlhf {

std::string valid_utf8(const std::string& text) {
  // nlohmann's serializer already implements the replacement; a round trip through a JSON string
  // literal reuses it instead of a second hand-written UTF-8 decoder.
  using nlohmann::json;
  return json::parse(json(text).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

}  // namespace rlhf
