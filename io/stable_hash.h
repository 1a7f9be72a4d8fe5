// A hash that means the same everywhere: split assignment, cache keys and lineage fingerprints
// must agree across machines, compilers and runs (std::hash does not promise that).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rlhf {

// 64-bit FNV-1a.
uint64_t stable_hash(std::string_view text);

// A 64-bit value as 16 lower-case hex digits (how hashes are written into files).
std::string hex64(uint64_t value);

}  // namespace rlhf
