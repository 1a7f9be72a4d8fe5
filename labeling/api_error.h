// An error that maps to an HTTP status and a stable code (see API.md). Thrown by the service
// functions; the server's exception handler turns it into {"error": {...}}.
#pragma once

#include <stdexcept>
#include <string>

namespace rlhf::labeling {

struct ApiError : std::runtime_error {
  ApiError(int status, std::string code, const std::string& message, std::string field = "")
      : std::runtime_error(message), status(status), code(std::move(code)), field(std::move(field)) {}
  int status;
  std::string code;
  std::string field;
};

}  // namespace rlhf::labeling
