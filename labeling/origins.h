// Which web origins may send the server state-changing requests (the CSRF check). Browsers put
// an Origin header on POSTs; it is compared with the origins the server is configured to be
// reached at, never with the request's Host header: a DNS-rebinding page chooses that header
// (its own name, resolved to this server), so an origin built from it lets any site through.
#pragma once

#include <string>
#include <vector>

namespace rlhf::labeling {

// The canonical form a browser sends: "HTTPS://Label.Example.org:443/" -> "https://label.example.org".
// Throws std::invalid_argument naming the value if it is not scheme://host[:port] with http(s).
std::string normalize_origin(const std::string& origin);

// The origins a browser reaches a server bound to host:port by. A loopback or wildcard address
// gives the loopback names (127.0.0.1, localhost, [::1]); another address or name gives itself.
// Addresses on a network are not guessed for a wildcard bind: list them as public origins.
std::vector<std::string> bind_origins(const std::string& host, int port);

// Whether an Origin header's value is one of the allowed origins. Browsers send it in canonical
// form, so the comparison is exact ("null", from sandboxed frames and files, never matches).
bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed);

}  // namespace rlhf::labeling
