// The one way code here reports bad input: a std::runtime_error whose message names the file, field
// or request at fault, built from its parts (strings, numbers, paths) without `+` and to_string.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace rlhf {

template <class... Parts>
std::string message_of(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw std::runtime_error(message_of(parts...));
}

template <class... Parts>
void require(bool ok, const Parts&... parts) {
  if (!ok) fail(parts...);
}

}  // namespace rlhf
