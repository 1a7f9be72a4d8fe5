// Small helpers shared by the HTTP handlers: JSON responses and errors, request bodies,
// credentials from the Authorization header or the session cookie, and the cookie itself.
#pragma once

#include <httplib.h>

#include <chrono>
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

// The labeler token from "Authorization: Bearer <token>" (API clients).
std::optional<std::string> bearer_token(const httplib::Request& req);
// The session id from the session cookie (the page, after POST /login).
std::optional<std::string> session_id_from_cookie(const httplib::Request& req);

// Set-Cookie values. HttpOnly keeps the id from scripts, SameSite=Strict from cross-site
// requests; secure adds Secure, for a server that browsers reach over https only.
std::string session_cookie(const std::string& session_id, std::chrono::seconds max_age, bool secure);
std::string expired_session_cookie(bool secure);

}  // namespace rlhf::labeling
