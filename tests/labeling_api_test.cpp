// The /api/v1 contract (labeling/API.md) against a real server on port 0: authentication,
// validation that leaves the database untouched, idempotent submission, ownership, and
// assignment rules under concurrent labelers.
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "labeling/page_assets.h"
#include "labeling_fixtures.h"

using namespace rlhf::test;

namespace {

std::string error_code(const httplib::Result& res) { return json::parse(res->body)["error"]["code"]; }

const std::string kImportLine = R"({"id":"x1","prompt":"p","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})";

}  // namespace

TEST_F(LabelingApi, HealthzAnswersWithoutAuthentication) {
  auto res = client().Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["status"], "ok");
}

TEST_F(LabelingApi, MissingOrUnknownTokenIs401) {
  auto none = client().Get("/api/v1/me");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(error_code(none), "unauthorized");
  EXPECT_EQ(get(std::string(64, 'f'), "/api/v1/me")->status, 401);
  EXPECT_EQ(get(alice, "/api/v1/me")->status, 200);
}

TEST_F(LabelingApi, RevokedTokenIs401EvenForOpenAssignments) {
  const json task = next_assignment(alice);
  ASSERT_FALSE(task.is_null());
  EXPECT_EQ(post(admin, "/api/v1/admin/labelers/alice/revoke")->status, 200);
  EXPECT_EQ(get(alice, "/api/v1/me")->status, 401);
  auto res = submit(alice, task["id"], {{"tiers", ascending_tiers(task)}}, "revoked-key-1");
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 0);
}

TEST_F(LabelingApi, LabelersGet403OnAdminEndpoints) {
  EXPECT_EQ(get(alice, "/api/v1/admin/stats")->status, 403);
  EXPECT_EQ(get(alice, "/api/v1/admin/export?format=pairs")->status, 403);
  EXPECT_EQ(post(alice, "/api/v1/admin/labelers", {{"name", "mallory"}})->status, 403);
  EXPECT_EQ(count("SELECT count(*) FROM labelers WHERE name = 'mallory'"), 0);
  EXPECT_EQ(get(admin, "/api/v1/admin/stats")->status, 200);
}

TEST_F(LabelingApi, LoginSetsAnHttpOnlyStrictCookieThatAuthenticates) {
  auto bad = client().Post("/api/v1/login", json{{"token", "nope"}}.dump(), "application/json");
  EXPECT_EQ(bad->status, 401);
  auto res = client().Post("/api/v1/login", json{{"token", alice}}.dump(), "application/json");
  ASSERT_EQ(res->status, 200);
  const std::string cookie = res->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  const std::string pair = cookie.substr(0, cookie.find(';'));
  auto me = client().Get("/api/v1/me", {{"Cookie", "other=1; " + pair}});
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(json::parse(me->body)["name"], "alice");
}

TEST_F(LabelingApi, ResponsesCarrySecurityHeadersAndTheApiIsNotCached) {
  auto res = get(alice, "/api/v1/options");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Security-Policy").rfind("default-src 'self'", 0), 0u);
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  const json options = json::parse(res->body);
  EXPECT_EQ(options["flags"].size(), 9u);
  EXPECT_EQ(options["likert"]["max"], 7);
}

TEST_F(LabelingApi, CrossOriginPostIsRefusedAndSameOriginPasses) {
  auto evil = post(alice, "/api/v1/tasks/next", json::object(), {{"Origin", "http://evil.example"}});
  EXPECT_EQ(evil->status, 403);
  EXPECT_EQ(error_code(evil), "bad_origin");
  EXPECT_EQ(count("SELECT count(*) FROM assignments"), 0);
  const std::string own = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(post(alice, "/api/v1/tasks/next", json::object(), {{"Origin", own}})->status, 200);
}

TEST_F(LabelingApi, InvalidSubmissionsAre422AndChangeNothing) {
  const json task = next_assignment(alice);
  const json good = ascending_tiers(task);
  const int64_t first = task["responses"][0]["id"];
  json missing = good;
  missing.erase(missing.size() - 1);
  json duplicated = good;
  duplicated.push_back(json::array({first}));
  json foreign = good;
  foreign.push_back(json::array({999999}));
  const std::vector<std::pair<std::string, json>> cases = {
      {"missing response", {{"tiers", missing}}},
      {"duplicated response", {{"tiers", duplicated}}},
      {"response not shown", {{"tiers", foreign}}},
      {"empty tier", {{"tiers", json::array({json::array()})}}},
      {"no tiers", {{"comment", "x"}}},
      {"unknown field", {{"tiers", good}, {"rank", 1}}},
      {"likert 8", {{"tiers", good}, {"annotations", {{{"response_id", first}, {"likert", 8}}}}}},
      {"likert 0", {{"tiers", good}, {"annotations", {{{"response_id", first}, {"likert", 0}}}}}},
      {"unknown flag", {{"tiers", good}, {"annotations", {{{"response_id", first}, {"flags", {"rude"}}}}}}},
      {"comment too long", {{"tiers", good}, {"comment", std::string(5000, 'x')}}},
      {"negative duration", {{"tiers", good}, {"duration_ms", -1}}},
      {"tiers not array", {{"tiers", "a>b"}}},
  };
  int n = 0;
  for (const auto& [name, body] : cases) {
    auto res = submit(alice, task["id"], body, "invalid-key-" + std::to_string(n++));
    ASSERT_TRUE(res) << name;
    EXPECT_EQ(res->status, 422) << name << ": " << res->body;
  }
  auto not_json = client().Post(("/api/v1/assignments/" + task["id"].dump() + "/submit").c_str(),
                                auth(alice, {{"Idempotency-Key", "broken-json-1"}}), "{\"tiers\": [", "application/json");
  EXPECT_EQ(not_json->status, 400);
  auto no_key = post(alice, "/api/v1/assignments/" + task["id"].dump() + "/submit", {{"tiers", good}});
  EXPECT_EQ(no_key->status, 400);
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM submission_ranks"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM response_ratings"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM assignments WHERE status = 'open'"), 1);
  EXPECT_EQ(submit(alice, task["id"], {{"tiers", good}}, "valid-key-1")->status, 201);  // still submittable
}

TEST_F(LabelingApi, IdempotentReplayStoresOneRowAndReturnsTheStoredResult) {
  const json task = next_assignment(alice);
  const json body = {{"tiers", ascending_tiers(task)},
                     {"annotations", {{{"response_id", task["responses"][0]["id"]}, {"likert", 6}, {"flags", {"hallucination"}}}}},
                     {"comment", "ok"},
                     {"duration_ms", 1234}};
  auto first = submit(alice, task["id"], body, "replay-key-1");
  ASSERT_EQ(first->status, 201) << first->body;
  auto again = submit(alice, task["id"], body, "replay-key-1");
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(again->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(json::parse(again->body), json::parse(first->body));
  // A lost key with the very same answer is also a replay, not a second row.
  EXPECT_EQ(submit(alice, task["id"], body, "another-key-1")->status, 200);
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM response_flags"), 1);
}

TEST_F(LabelingApi, ADifferentPayloadForASubmittedAssignmentIs409) {
  const json task = next_assignment(alice);
  ASSERT_EQ(submit(alice, task["id"], {{"tiers", ascending_tiers(task)}}, "conflict-key-1")->status, 201);
  auto same_key = submit(alice, task["id"], {{"tiers", ascending_tiers(task, true)}}, "conflict-key-1");
  EXPECT_EQ(same_key->status, 409);
  EXPECT_EQ(error_code(same_key), "idempotency_key_reused");
  auto new_key = submit(alice, task["id"], {{"tiers", ascending_tiers(task, true)}}, "conflict-key-2");
  EXPECT_EQ(new_key->status, 409);
  EXPECT_EQ(error_code(new_key), "already_submitted");
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 1);
}

TEST_F(LabelingApi, RevisionWithSupersedesReplacesTheLiveAnswer) {
  const json task = next_assignment(alice);
  auto first = submit(alice, task["id"], {{"tiers", ascending_tiers(task)}}, "revise-key-1");
  const int64_t first_id = json::parse(first->body)["submission"]["id"];
  auto stale = submit(alice, task["id"], {{"tiers", ascending_tiers(task, true)}, {"supersedes", first_id + 100}}, "revise-key-2");
  EXPECT_EQ(stale->status, 409);
  auto revised = submit(alice, task["id"], {{"tiers", ascending_tiers(task, true)}, {"supersedes", first_id}}, "revise-key-3");
  ASSERT_EQ(revised->status, 201) << revised->body;
  EXPECT_EQ(json::parse(revised->body)["submission"]["version"], 2);
  EXPECT_EQ(count("SELECT count(*) FROM submissions WHERE live = 1"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 2);
}

TEST_F(LabelingApi, AnotherLabelersAssignmentIsNotFound) {
  const json task = next_assignment(alice);
  const std::string base = "/api/v1/assignments/" + task["id"].dump();
  EXPECT_EQ(submit(bob, task["id"], {{"tiers", ascending_tiers(task)}}, "bob-steals-1")->status, 404);
  EXPECT_EQ(post(bob, base + "/skip", {{"reason", "other"}})->status, 404);
  EXPECT_EQ(get(bob, base)->status, 404);
  EXPECT_EQ(submit(bob, 987654, {{"tiers", ascending_tiers(task)}}, "bob-missing-1")->status, 404);
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM skips"), 0);
  EXPECT_EQ(get(alice, base)->status, 200);
}

TEST_F(LabelingApi, NextTaskHandsBackTheOpenAssignmentUntilItIsAnswered) {
  const json first = next_assignment(alice);
  const json again = next_assignment(alice);
  EXPECT_EQ(first["id"], again["id"]);
  EXPECT_EQ(first["responses"], again["responses"]);  // same shuffled order
  EXPECT_FALSE(first["responses"][0].contains("model"));  // labelers do not see model names
  ASSERT_EQ(submit(alice, first["id"], {{"tiers", ascending_tiers(first)}}, "next-key-1")->status, 201);
  EXPECT_NE(next_assignment(alice)["id"], first["id"]);
}

TEST_F(LabelingApi, SkipRecordsTheReasonIsSafeToRetryAndBlocksSubmit) {
  const json task = next_assignment(alice);
  const std::string base = "/api/v1/assignments/" + task["id"].dump();
  EXPECT_EQ(post(alice, base + "/skip", {{"reason", "bored"}})->status, 422);
  EXPECT_EQ(post(alice, base + "/skip", {{"reason", "needs_expertise"}, {"comment", "law"}})->status, 200);
  EXPECT_EQ(post(alice, base + "/skip", {{"reason", "needs_expertise"}})->status, 200);
  EXPECT_EQ(count("SELECT count(*) FROM skips"), 1);
  auto late = submit(alice, task["id"], {{"tiers", ascending_tiers(task)}}, "after-skip-1");
  EXPECT_EQ(late->status, 409);
  EXPECT_EQ(error_code(late), "already_skipped");
  EXPECT_NE(next_assignment(alice)["prompt"]["id"], task["prompt"]["id"]);  // never offered again
}

TEST_F(LabelingApi, TwoConcurrentLabelersNeverShareAnAssignmentOrRepeatAPrompt) {
  std::map<std::string, std::vector<json>> seen;
  auto work = [&](const std::string& token, const std::string& name) {
    for (int round = 0; round < 20; ++round) {
      auto res = post(token, "/api/v1/tasks/next");
      if (!res || res->status != 200) return;
      const json task = json::parse(res->body)["assignment"];
      if (task.is_null()) return;
      seen[name].push_back(task);
      submit(token, task["id"], {{"tiers", ascending_tiers(task)}}, name + "-key-" + std::to_string(round));
    }
  };
  std::thread a(work, alice, "alice"), b(work, bob, "bob");
  a.join();
  b.join();
  std::set<int64_t> assignment_ids;
  for (const auto& [name, tasks] : seen) {
    std::set<int64_t> prompts;
    for (const auto& task : tasks) {
      EXPECT_TRUE(assignment_ids.insert(task["id"].get<int64_t>()).second) << "assignment handed out twice";
      EXPECT_TRUE(prompts.insert(task["prompt"]["id"].get<int64_t>()).second) << name << " got a prompt twice";
    }
  }
  // Fixture: t1 and t2 need 2 labels, t3 needs 1, g1 is gold (everyone): 2+2+1+2 = 7 tasks.
  EXPECT_EQ(seen["alice"].size() + seen["bob"].size(), 7u);
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 7);
  EXPECT_EQ(count("SELECT count(*) FROM (SELECT prompt_id FROM assignments GROUP BY prompt_id, labeler_id HAVING count(*) > 1)"), 0);
  EXPECT_EQ(json::parse(get(alice, "/api/v1/me")->body)["progress"]["remaining"], 0);
}

TEST_F(LabelingApi, StatsReportAgreementAndGoldAccuracy) {
  // alice ranks every task in import order, bob in reverse: they never agree; the gold prompt
  // g1 ([[a],[b,c]]) is right for alice and wrong for bob.
  for (const auto& [token, reverse] : {std::pair{alice, false}, std::pair{bob, true}}) {
    for (int round = 0; round < 10; ++round) {
      const json task = next_assignment(token);
      if (task.is_null()) break;
      ASSERT_EQ(submit(token, task["id"], {{"tiers", ascending_tiers(task, reverse)}, {"duration_ms", 1000 * (round + 1)}},
                       "stats-key-" + std::to_string(reverse) + std::to_string(round))->status, 201);
    }
  }
  const json stats = json::parse(get(admin, "/api/v1/admin/stats")->body);
  std::map<std::string, json> by_name;
  for (const auto& row : stats["labelers"]) by_name[row["name"]] = row;
  EXPECT_EQ(by_name["alice"]["gold_accuracy"], 1.0);
  EXPECT_EQ(by_name["bob"]["gold_accuracy"], 0.0);
  EXPECT_EQ(by_name["alice"]["agreement"], 0.0);
  EXPECT_GT(by_name["alice"]["agreement_pairs"].get<int>(), 0);
  EXPECT_EQ(stats["overall"]["pairwise_agreement"], 0.0);
  EXPECT_TRUE(by_name["root"]["agreement"].is_null());
  EXPECT_TRUE(by_name["alice"]["median_duration_ms"].is_number());
}

TEST_F(LabelingApi, OversizeBodyIs413AndStoresNothing) {
  const json task = next_assignment(alice);
  const json huge = {{"tiers", ascending_tiers(task)}, {"comment", std::string(2 << 20, 'x')}};
  auto res = submit(alice, task["id"], huge, "huge-key-01");
  // The server answers 413 from Content-Length without reading the body, then closes; the
  // client may see the 413 or, still writing, a reset connection. Either way nothing is stored.
  if (res) {
    EXPECT_EQ(res->status, 413);
  }
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 0);
  EXPECT_EQ(client().Get("/healthz")->status, 200);
  EXPECT_EQ(submit(alice, task["id"], {{"tiers", ascending_tiers(task)}}, "small-key-01")->status, 201);
}

TEST_F(LabelingApi, AdminImportIsAllOrNothingAndNamesTheLine) {
  const std::string bad = R"({"id":"n1","prompt":"p","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})"
                          "\n"
                          R"({"id":"n2","prompt":"p","responses":[{"id":"a","text":"x"}]})";
  auto res = client().Post("/api/v1/admin/import", auth(admin), bad, "application/x-ndjson");
  ASSERT_EQ(res->status, 422) << res->body;
  const json error = json::parse(res->body)["error"];
  EXPECT_EQ(error["line"], 2);
  EXPECT_EQ(error["field"], "responses");
  EXPECT_EQ(count("SELECT count(*) FROM prompts WHERE external_id IN ('n1', 'n2')"), 0);
  auto good = client().Post("/api/v1/admin/import", auth(admin), bad.substr(0, bad.find('\n')), "application/x-ndjson");
  ASSERT_EQ(good->status, 200) << good->body;
  EXPECT_EQ(json::parse(good->body)["imported"], 1);
}

TEST_F(LabelingApi, AnOverflowingNumberIsBadJsonNotAServerError) {
  const json task = next_assignment(alice);
  auto res = client().Post(("/api/v1/assignments/" + task["id"].dump() + "/submit").c_str(),
                           auth(alice, {{"Idempotency-Key", "overflow-key-1"}}), R"({"tiers": [[1e999]]})",
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  EXPECT_EQ(error_code(res), "bad_json");
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 0);
}

TEST_F(LabelingApi, AdminImportOfAnUnknownFormatIs422NamingTheField) {
  auto res = client().Post("/api/v1/admin/import?format=xml", auth(admin), kImportLine, "application/x-ndjson");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 422) << res->body;
  EXPECT_EQ(json::parse(res->body)["error"]["field"], "format");
  EXPECT_EQ(count("SELECT count(*) FROM prompts WHERE external_id = 'x1'"), 0);
}

TEST_F(LabelingApi, AdminImportOfALineWithAnOverflowingNumberIs422NamingTheLine) {
  const std::string bad = kImportLine + "\n" + R"({"id":"x2","prompt":"p","gold":1e999,"responses":[]})";
  auto res = client().Post("/api/v1/admin/import", auth(admin), bad, "application/x-ndjson");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 422) << res->body;
  EXPECT_EQ(json::parse(res->body)["error"]["line"], 2);
  EXPECT_EQ(count("SELECT count(*) FROM prompts WHERE external_id IN ('x1', 'x2')"), 0);
}

TEST_F(LabelingApi, AdminCreatesLabelersWhoseTokensWork) {
  auto res = post(admin, "/api/v1/admin/labelers", {{"name", "carol"}});
  ASSERT_EQ(res->status, 201);
  const std::string token = json::parse(res->body)["token"];
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(post(admin, "/api/v1/admin/labelers", {{"name", "carol"}})->status, 409);
  EXPECT_EQ(post(admin, "/api/v1/admin/labelers", {{"name", "bad name"}})->status, 422);
  EXPECT_EQ(json::parse(get(token, "/api/v1/me")->body)["name"], "carol");
  EXPECT_EQ(count("SELECT count(*) FROM labelers WHERE token_hash = '" + token + "'"), 0);  // only the hash is kept
}

TEST_F(LabelingApi, ExportEndpointServesJsonl) {
  const json task = next_assignment(alice);
  ASSERT_EQ(submit(alice, task["id"], {{"tiers", ascending_tiers(task)}}, "export-key-1")->status, 201);
  auto res = get(admin, "/api/v1/admin/export?format=pairs");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-ndjson");
  const size_t k = task["responses"].size();
  EXPECT_EQ(static_cast<size_t>(std::count(res->body.begin(), res->body.end(), '\n')), k * (k - 1) / 2);
  EXPECT_EQ(get(admin, "/api/v1/admin/export?format=csv")->status, 422);
}

TEST_F(LabelingApi, UnknownPathsAre404AndPagePathsServeTheEmbeddedAssets) {
  auto api = get(alice, "/api/v1/nothing-here");
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(error_code(api), "not_found");
  auto page = client().Get("/");
  const auto* asset = rlhf::labeling::find_page_asset("/");
  if (asset) {
    EXPECT_EQ(page->status, 200);
    EXPECT_EQ(page->get_header_value("Content-Type"), std::string(asset->content_type));
    EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  } else {
    EXPECT_EQ(page->status, 404);  // placeholder assets: nothing to serve yet
  }
}

TEST_F(LabelingApi, OpenKeepAliveConnectionsDoNotStarveNewOnes) {
  // Each open keep-alive connection holds a server worker until it idles out (5 s). With 20 of
  // them open (more than httplib's default 8 workers), the next one must still be served at once.
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < 20; ++i) {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_keep_alive(true);
    c->set_read_timeout(2, 0);
    auto res = c->Get("/healthz");
    ASSERT_TRUE(res) << "connection " << i << ": " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    clients.push_back(std::move(c));
  }
}

TEST_F(LabelingApi, ASecondServerCannotTakeAPortInUse) {
  // (httplib's default SO_REUSEPORT would let it bind and take half of the connections.)
  rlhf::labeling::LabelingServer other(temp_db("api_other"));
  EXPECT_THROW(other.bind("127.0.0.1", port), std::runtime_error);
  EXPECT_EQ(client().Get("/healthz")->status, 200);
}

TEST_F(LabelingApi, HeadOnAnApiRouteIs405AndRunsNothing) {
  // httplib answers HEAD with the GET handler: HEAD /admin/export used to build the whole export.
  for (const std::string path : {"/api/v1/admin/export?format=rankings", "/api/v1/admin/stats", "/api/v1/me", "/healthz"}) {
    auto res = client().Head(path.c_str(), auth(admin));
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 405) << path;
    EXPECT_EQ(res->get_header_value("Allow"), "GET") << path;
  }
  if (rlhf::labeling::find_page_asset("/app.js")) {
    auto page = client().Head("/app.js");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);  // the page's files are static bytes: HEAD costs nothing there
  }
}

TEST_F(LabelingApi, AStaticAssetServesOneRangeAndManyRangesGetTheBodyOnce) {
  const auto* asset = rlhf::labeling::find_page_asset("/app.js");
  if (!asset) GTEST_SKIP() << "placeholder page assets";
  const std::string body(asset->body);
  auto one = client().Get("/app.js", {{"Range", "bytes=0-9"}});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 206);
  EXPECT_EQ(one->body, body.substr(0, 10));
  std::string many = "bytes=0-";
  for (int i = 0; i < 300; ++i) many += ",0-";
  auto overlapping = client().Get("/app.js", {{"Range", many}});
  ASSERT_TRUE(overlapping);
  EXPECT_EQ(overlapping->status, 200);
  EXPECT_EQ(overlapping->body.size(), body.size());  // one copy, not one per range
  // API answers are never partial: a Range there is ignored.
  auto api = client().Get("/api/v1/me", auth(alice, {{"Range", "bytes=0-3,0-3,0-3"}}));
  ASSERT_TRUE(api);
  ASSERT_EQ(api->status, 200);
  EXPECT_EQ(json::parse(api->body)["name"], "alice");
  auto missing = client().Get("/nothing-here", {{"Range", many}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_LT(missing->body.size(), 1000u);
}

TEST_F(LabelingApi, AWriteLockHeldPastTheBusyTimeoutIs503WithRetryAfterAndHealthzDoesNotWait) {
  using clock = std::chrono::steady_clock;
  const json task = next_assignment(alice);
  const json body = {{"tiers", ascending_tiers(task)}};
  {
    rlhf::storage::Transaction held(*observer);  // another process holding the write lock
    int waited_status = 0;
    std::string waited_body, retry_after;
    std::thread submitter([&] {
      auto res = submit(alice, task["id"], body, "busy-key-01");
      if (!res) return;
      waited_status = res->status;
      waited_body = res->body;
      retry_after = res->get_header_value("Retry-After");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the submit now waits for the lock
    const auto start = clock::now();
    auto health = client().Get("/healthz");
    ASSERT_TRUE(health);
    const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start).count();
    EXPECT_LT(waited_ms, 1000) << "/healthz waited behind the write lock";
    submitter.join();
    EXPECT_EQ(waited_status, 503) << waited_body;
    EXPECT_NE(waited_body.find("database_busy"), std::string::npos) << waited_body;
    EXPECT_FALSE(retry_after.empty());
    auto busy = client().Get("/healthz");
    EXPECT_EQ(busy->status, 503);
    EXPECT_EQ(json::parse(busy->body)["writes"], "busy");
  }
  // The lock is gone: health recovers by itself and the resent answer is stored, once.
  int health_status = 0;
  std::string health_body;
  for (int i = 0; i < 30 && health_status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (auto health = client().Get("/healthz")) health_status = health->status, health_body = health->body;
  }
  EXPECT_EQ(health_status, 200) << health_body;
  EXPECT_EQ(json::parse(health_body)["writes"], "ok");
  EXPECT_EQ(submit(alice, task["id"], body, "busy-key-01")->status, 201);
  EXPECT_EQ(count("SELECT count(*) FROM submissions"), 1);
}

TEST_F(LabelingApi, ACommentIsLimitedInCharactersNotBytes) {
  const json task = next_assignment(alice);
  std::string cyrillic;
  for (int i = 0; i < 4000; ++i) cyrillic += "\xD0\x96";  // 4000 characters, 8000 bytes
  auto too_long = submit(alice, task["id"], {{"tiers", ascending_tiers(task)}, {"comment", cyrillic + "\xD0\x96"}}, "chars-key-01");
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->status, 422);
  EXPECT_EQ(json::parse(too_long->body)["error"]["field"], "comment");
  EXPECT_NE(json::parse(too_long->body)["error"]["message"].get<std::string>().find("4001 characters"), std::string::npos)
      << too_long->body;
  auto at_limit = submit(alice, task["id"], {{"tiers", ascending_tiers(task)}, {"comment", cyrillic}}, "chars-key-02");
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 201) << at_limit->body;
  const json other = next_assignment(alice);
  EXPECT_EQ(post(alice, "/api/v1/assignments/" + other["id"].dump() + "/skip", {{"reason", "other"}, {"comment", cyrillic}})->status, 200);
}

TEST_F(LabelingApi, NextTaskRefusesABodyOtherThanEmptyOrAnEmptyObject) {
  auto unknown = post(alice, "/api/v1/tasks/next", {{"foo", 1}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 422);
  EXPECT_EQ(error_code(unknown), "unknown_field");
  EXPECT_EQ(json::parse(unknown->body)["error"]["field"], "foo");
  auto array = post(alice, "/api/v1/tasks/next", json::array({1, 2}));
  ASSERT_TRUE(array);
  EXPECT_EQ(array->status, 422);
  EXPECT_EQ(json::parse(array->body)["error"]["field"], "body");
  EXPECT_EQ(count("SELECT count(*) FROM assignments"), 0);
  EXPECT_EQ(client().Post("/api/v1/tasks/next", auth(alice), "", "application/json")->status, 200);
  EXPECT_EQ(post(alice, "/api/v1/tasks/next", json::object())->status, 200);
}
