// The database itself enforces the labeling rules, so a bug in the service cannot break them:
// one prompt per labeler once, one open assignment per labeler, one live submission per
// assignment, unique idempotency keys, Likert 1-7, flags from the table, foreign keys.
#include <gtest/gtest.h>

#include "storage/assignments.h"
#include "storage/labelers.h"
#include "storage/prompts.h"
#include "storage/schema.h"
#include "storage/submissions.h"

using namespace rlhf::storage;

namespace {

constexpr const char* kNow = "2025-01-01T00:00:00Z";
constexpr const char* kLater = "2025-01-01T01:00:00Z";

struct StorageConstraints : ::testing::Test {
  Database db = open_database(":memory:");
  int64_t ann = insert_labeler(db, "ann", "labeler", std::string(64, 'a'), kNow);
  int64_t prompt_a = add_prompt("p1");
  int64_t prompt_b = add_prompt("p2");

  int64_t add_prompt(const std::string& id) {
    NewPrompt prompt;
    prompt.external_id = id;
    prompt.kind = "general";
    prompt.conversation_json = R"([{"role":"user","content":"hi"}])";
    prompt.content_hash = id;
    prompt.responses = {{"x", "one", std::nullopt}, {"y", "two", std::nullopt}};
    return insert_prompt(db, prompt, kNow);
  }
  std::vector<int64_t> ids(int64_t prompt) {
    std::vector<int64_t> result;
    for (const auto& r : responses_of(db, prompt)) result.push_back(r.id);
    return result;
  }
  NewSubmission submission(int64_t assignment, const std::string& key) {
    const auto order = find_assignment(db, assignment)->shown_order;
    NewSubmission s;
    s.assignment_id = assignment;
    s.labeler_id = ann;
    s.idempotency_key = key;
    s.request_json = "{}";
    s.tiers = {{order[0]}, {order[1]}};
    return s;
  }
};

}  // namespace

TEST_F(StorageConstraints, ALabelerCannotBeAssignedTheSamePromptTwice) {
  const int64_t first = insert_assignment(db, ann, prompt_a, ids(prompt_a), kNow, kLater);
  set_assignment_status(db, first, "skipped");
  EXPECT_THROW(insert_assignment(db, ann, prompt_a, ids(prompt_a), kNow, kLater), std::runtime_error);
}

TEST_F(StorageConstraints, ALabelerHoldsAtMostOneOpenAssignment) {
  insert_assignment(db, ann, prompt_a, ids(prompt_a), kNow, kLater);
  EXPECT_THROW(insert_assignment(db, ann, prompt_b, ids(prompt_b), kNow, kLater), std::runtime_error);
}

TEST_F(StorageConstraints, IdempotencyKeysAreUniquePerLabeler) {
  const int64_t a = insert_assignment(db, ann, prompt_a, ids(prompt_a), kNow, kLater);
  insert_submission(db, submission(a, "key-00001"), kNow);
  const int64_t b = insert_assignment(db, ann, prompt_b, ids(prompt_b), kNow, kLater);
  EXPECT_THROW(insert_submission(db, submission(b, "key-00001"), kNow), std::runtime_error);
}

TEST_F(StorageConstraints, RevisionKeepsOneLiveSubmissionAndTheOldRow) {
  const int64_t a = insert_assignment(db, ann, prompt_a, ids(prompt_a), kNow, kLater);
  const int64_t first = insert_submission(db, submission(a, "key-00001"), kNow);
  auto second = submission(a, "key-00002");
  second.supersedes = first;
  const int64_t revised = insert_submission(db, second, kNow);
  EXPECT_EQ(find_live_submission(db, a)->id, revised);
  EXPECT_EQ(find_submission(db, revised)->version, 2);
  EXPECT_FALSE(find_submission(db, first)->live);
  // Superseding a row that is no longer live is refused.
  auto stale = submission(a, "key-00003");
  stale.supersedes = first;
  EXPECT_THROW(insert_submission(db, stale, kNow), std::runtime_error);
}

TEST_F(StorageConstraints, TwoLiveSubmissionsForOneAssignmentAreRefused) {
  const int64_t a = insert_assignment(db, ann, prompt_a, ids(prompt_a), kNow, kLater);
  insert_submission(db, submission(a, "key-00001"), kNow);
  EXPECT_THROW(insert_submission(db, submission(a, "key-00002"), kNow), std::runtime_error);
}

TEST_F(StorageConstraints, LikertOutsideOneToSevenAndUnknownFlagsAreRefused) {
  const int64_t a = insert_assignment(db, ann, prompt_a, ids(prompt_a), kNow, kLater);
  auto bad_likert = submission(a, "key-00001");
  bad_likert.annotations = {{ids(prompt_a)[0], 8, {}}};
  EXPECT_THROW(insert_submission(db, bad_likert, kNow), std::runtime_error);
  auto bad_flag = submission(a, "key-00002");
  bad_flag.annotations = {{ids(prompt_a)[0], 3, {"not_a_flag"}}};
  EXPECT_THROW(insert_submission(db, bad_flag, kNow), std::runtime_error);
}

TEST_F(StorageConstraints, AResponseAppearsOnceInARanking) {
  const int64_t a = insert_assignment(db, ann, prompt_a, ids(prompt_a), kNow, kLater);
  auto twice = submission(a, "key-00001");
  twice.tiers = {{ids(prompt_a)[0]}, {ids(prompt_a)[0]}};
  EXPECT_THROW(insert_submission(db, twice, kNow), std::runtime_error);
}

TEST_F(StorageConstraints, ForeignKeysAreEnforced) {
  EXPECT_THROW(insert_assignment(db, ann, 9999, {1, 2}, kNow, kLater), std::runtime_error);
  EXPECT_THROW(insert_assignment(db, 9999, prompt_a, ids(prompt_a), kNow, kLater), std::runtime_error);
}

TEST_F(StorageConstraints, GoldFlagAndGoldRankingGoTogether) {
  EXPECT_THROW(db.exec("UPDATE prompts SET is_gold = 1 WHERE id = 1"), std::runtime_error);
}
