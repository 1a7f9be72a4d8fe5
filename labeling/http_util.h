// Small helpers shared by the HTTP handlers: JSON responses and errors, request bodies,
// credentials from the Authorization header or the session cookie, and the Origin check.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "labeling/api_error.h"
#include "labeling/json_fields.h"

namespace rlhf::labeling {

constexpr const char* kSessionCookie = "rlhf_session";

void send_json(httplib::Response& res, int status, const json& body);
void send_error(httplib::Response& res, const ApiError& error);

// The body as JSON (an empty body reads as {}); 413 over max_bytes, 400 if not JSON.
json parse_json_body(const httplib::Request& req, size_t max_bytes);

// The token from "Authorization: Bearer ..." or else from the session cookie.
std::optional<std::string> presented_token(const httplib::Request& req);

// Browsers send Origin on cross-site POSTs: it must name this server (http(s)://<Host>).
bool origin_allowed(const httplib::Request& req);

std::string session_cookie(const std::string& token);  // Set-Cookie value
std::string expired_session_cookie();

}  // namespace rlhf::labeling
