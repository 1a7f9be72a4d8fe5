// Labeling quality for GET /api/v1/admin/stats: per labeler done/skipped/median time, agreement
// with other labelers and accuracy on gold prompts; overall pairwise agreement.
//
// Agreement: for two live submissions by different labelers on the same prompt, every pair of
// responses that both ordered strictly counts once; it agrees when both put the same one first.
// Gold accuracy: over pairs the gold ranking orders strictly, the labeler's order must match
// (a tie counts as wrong).
#pragma once

#include "labeling/json_fields.h"
#include "storage/sqlite.h"

namespace rlhf::labeling {

json labeling_stats(storage::Database& db);

}  // namespace rlhf::labeling
