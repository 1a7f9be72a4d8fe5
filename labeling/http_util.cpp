#include "labeling/http_util.h"

namespace rlhf::labeling {

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Replace invalid UTF-8 instead of throwing mid-response; input is validated, so this is a guard.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) {
  json detail = {{"code", error.code}, {"message", error.what()}};
  if (!error.field.empty()) detail["field"] = error.field;
  send_json(res, error.status, {{"error", detail}});
}

json parse_json_body(const httplib::Request& req, size_t max_bytes) {
  if (req.body.size() > max_bytes) {
    throw ApiError(413, "payload_too_large", "request body is larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  try {
    return json::parse(req.body);
  } catch (const json::exception& error) {  // parse_error, and out_of_range for a number like 1e999
    throw ApiError(400, "bad_json", std::string("request body is not valid JSON: ") + error.what());
  }
}

std::optional<std::string> presented_token(const httplib::Request& req) {
  const std::string authorization = req.get_header_value("Authorization");
  const std::string bearer = "Bearer ";
  if (authorization.compare(0, bearer.size(), bearer) == 0) return authorization.substr(bearer.size());
  // Cookie: a=b; rlhf_session=TOKEN; c=d
  const std::string cookies = req.get_header_value("Cookie");
  const std::string name = std::string(kSessionCookie) + "=";
  size_t start = 0;
  while (start < cookies.size()) {
    size_t end = cookies.find(';', start);
    if (end == std::string::npos) end = cookies.size();
    std::string pair = cookies.substr(start, end - start);
    pair.erase(0, pair.find_first_not_of(' '));
    if (pair.compare(0, name.size(), name) == 0) return pair.substr(name.size());
    start = end + 1;
  }
  return std::nullopt;
}

bool origin_allowed(const httplib::Request& req) {
  if (!req.has_header("Origin")) return true;  // not a browser cross-origin request (curl, tests)
  const std::string origin = req.get_header_value("Origin");
  const std::string host = req.get_header_value("Host");
  return !host.empty() && (origin == "http://" + host || origin == "https://" + host);
}

std::string session_cookie(const std::string& token) {
  return std::string(kSessionCookie) + "=" + token + "; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000";
}

std::string expired_session_cookie() {
  return std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";
}

}  // namespace rlhf::labeling
