// What a labeler does: get the next task, look at an assignment, submit a ranking, skip. Each
// function runs in one transaction and returns the JSON documented in API.md, or throws ApiError.
// Callers serialise access to the Database (the server holds a mutex).
#pragma once

#include <cstdint>
#include <string>

#include "labeling/json_fields.h"
#include "storage/labelers.h"
#include "storage/sqlite.h"

namespace rlhf::labeling {

json me(storage::Database& db, const storage::Labeler& labeler);
json options(storage::Database& db);
json next_task(storage::Database& db, const storage::Labeler& labeler);
json get_assignment(storage::Database& db, const storage::Labeler& labeler, int64_t assignment_id);

struct SubmitOutcome {
  int status = 201;  // 201 stored now, 200 the stored result of an earlier identical request
  json body;
};

SubmitOutcome submit(storage::Database& db, const storage::Labeler& labeler, int64_t assignment_id,
                     const std::string& idempotency_key, const json& body);
json skip(storage::Database& db, const storage::Labeler& labeler, int64_t assignment_id, const json& body);

// Idempotency keys: 8-128 characters of [A-Za-z0-9_-].
bool is_valid_idempotency_key(const std::string& key);

}  // namespace rlhf::labeling
