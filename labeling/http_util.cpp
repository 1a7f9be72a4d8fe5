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

std::optional<std::string> bearer_token(const httplib::Request& req) {
  const std::string authorization = req.get_header_value("Authorization");
  const std::string bearer = "Bearer ";
  if (authorization.compare(0, bearer.size(), bearer) != 0) return std::nullopt;
  return authorization.substr(bearer.size());
}

std::optional<std::string> session_id_from_cookie(const httplib::Request& req) {
  // Cookie: a=b; rlhf_session=ID; c=d
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

std::string session_cookie(const std::string& session_id, std::chrono::seconds max_age, bool secure) {
  return std::string(kSessionCookie) + "=" + session_id + "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
         std::to_string(max_age.count()) + (secure ? "; Secure" : "");
}

std::string expired_session_cookie(bool secure) {
  return std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0" + (secure ? "; Secure" : "");
}

}  // namespace rlhf::labeling
