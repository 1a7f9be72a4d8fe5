// UTC timestamps as ISO-8601 text ("2025-01-31T12:00:00Z"): readable in the database and in
// exports, and they sort as strings in time order, so SQL can compare them directly.
#pragma once

#include <chrono>
#include <string>

namespace rlhf::storage {

std::string format_utc(std::chrono::system_clock::time_point time);
std::string utc_now();

}  // namespace rlhf::storage
