#include "labeling/origins.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "text/strings.h"

namespace rlhf::labeling {
namespace {

// The port after the host, if any: what follows the last ':' outside an IPv6 literal's brackets.
bool valid_port(const std::string& authority) {
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) return true;
  const std::string port = authority.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
  return std::stoi(port) >= 1 && std::stoi(port) <= 65535;
}

}  // namespace

std::string normalize_origin(const std::string& origin) {
  std::string value = origin;
  std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ends_with(value, "/")) value.pop_back();
  const std::string scheme = value.rfind("https://", 0) == 0 ? "https" : value.rfind("http://", 0) == 0 ? "http" : "";
  const std::string authority = scheme.empty() ? "" : value.substr(scheme.size() + 3);
  const bool clean = !authority.empty() && authority.find_first_of("/?#@ \t\r\n") == std::string::npos;
  if (!clean || authority.front() == ':' || !valid_port(authority)) {
    throw std::invalid_argument("'" + origin + "' is not a web origin: write it as scheme://host[:port], e.g. "
                                "https://label.example.org");
  }
  // Browsers leave the scheme's default port out of Origin.
  const std::string default_port = scheme == "https" ? ":443" : ":80";
  if (ends_with(value, default_port)) value.resize(value.size() - default_port.size());
  return value;
}

std::vector<std::string> bind_origins(const std::string& host, int port) {
  auto origin_of = [port](std::string name) {
    if (name.find(':') != std::string::npos) name = "[" + name + "]";  // an IPv6 address
    return normalize_origin("http://" + name + ":" + std::to_string(port));
  };
  const bool wildcard = host.empty() || host == "0.0.0.0" || host == "::";
  const bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  std::vector<std::string> origins;
  if (wildcard || loopback) {
    for (const char* name : {"127.0.0.1", "localhost", "::1"}) origins.push_back(origin_of(name));
  }
  if (!wildcard) {
    const std::string own = origin_of(host);
    if (std::find(origins.begin(), origins.end(), own) == origins.end()) origins.push_back(own);
  }
  return origins;
}

bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed) {
  return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

}  // namespace rlhf::labeling
