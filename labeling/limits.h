// Size caps shared by validation, the server and the options endpoint (documented in API.md).
#pragma once

#include <cstddef>

namespace rlhf::labeling {

constexpr size_t kMaxBodyBytes = 1 << 20;          // API request bodies
constexpr size_t kMaxImportBytes = 64u << 20;      // POST /admin/import
constexpr size_t kMaxCommentChars = 4000;          // Unicode code points, as API.md and the page say
constexpr size_t kMaxTextBytes = 32 * 1024;        // one prompt turn or one response
constexpr size_t kMaxResponses = 9;                // number keys 1-9 on the page
constexpr size_t kMinResponses = 2;
constexpr int kLikertMin = 1;
constexpr int kLikertMax = 7;
constexpr const char* kGuidelinesVersion = "1";
constexpr long kAssignmentLifetimeSeconds = 3600;  // an open slot is reserved this long
constexpr int kGoldEvery = 5;                      // one gold task in every five, at a random place

}  // namespace rlhf::labeling
