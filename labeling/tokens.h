// Labeler tokens: 256 random bits from the kernel, shown once, stored only as SHA-256, and
// compared in constant time so response timing reveals nothing about a stored hash.
#pragma once

#include <string>
#include <string_view>

namespace rlhf::labeling {

std::string generate_token();                        // 64 hex characters (32 random bytes)
std::string sha256_hex(std::string_view data);       // 64 lowercase hex characters
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace rlhf::labeling
