#include "storage/clock.h"

#include <ctime>

namespace rlhf::storage {

std::string format_utc(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string utc_now() { return format_utc(std::chrono::system_clock::now()); }

}  // namespace rlhf::storage
