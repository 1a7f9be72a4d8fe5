// Browser sessions and the Origin check (labeling/sessions.h, labeling/origins.h): the cookie
// carries a server-side session that logout, revocation and expiry end, never the token; browser
// POSTs are accepted only from the origins the server is configured for, whatever Host says.
#include <chrono>
#include <regex>
#include <string>

#include "labeling/http_util.h"
#include "labeling/origins.h"
#include "labeling/sessions.h"
#include "labeling/tokens.h"
#include "labeling_fixtures.h"
#include "storage/labelers.h"

using namespace rlhf::test;
namespace labeling = rlhf::labeling;
namespace storage = rlhf::storage;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

// The "rlhf_session=..." pair of a Set-Cookie header, as a browser sends it back.
std::string cookie_pair(const httplib::Result& res) {
  const std::string cookie = res->get_header_value("Set-Cookie");
  return cookie.substr(0, cookie.find(';'));
}

std::string cookie_value(const httplib::Result& res) {
  const std::string pair = cookie_pair(res);
  return pair.substr(pair.find('=') + 1);
}

}  // namespace

class LabelingSessions : public LabelingApi {
 protected:
  httplib::Result login(const std::string& token) {
    return client().Post("/api/v1/login", json{{"token", token}}.dump(), "application/json");
  }
  // Logs in and returns the cookie pair to send back.
  std::string signed_in(const std::string& token) {
    auto res = login(token);
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    return cookie_pair(res);
  }
  int me_status(const std::string& cookie) { return client().Get("/api/v1/me", {{"Cookie", cookie}})->status; }
};

TEST_F(LabelingSessions, CookieNeverCarriesTheToken) {
  auto res = login(alice);
  ASSERT_EQ(res->status, 200);
  const std::string cookie = res->get_header_value("Set-Cookie");
  EXPECT_EQ(cookie.find(alice), std::string::npos) << cookie;
  const std::string id = cookie_value(res);
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{64}"))) << id;
  // The database keeps only the session id's hash, never the id itself.
  EXPECT_EQ(count("SELECT count(*) FROM sessions WHERE id_hash = '" + labeling::sha256_hex(id) + "'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM sessions WHERE id_hash = '" + id + "'"), 0);
  EXPECT_EQ(me_status(cookie_pair(res)), 200);
  // A token in the cookie is not a session: it is refused.
  EXPECT_EQ(me_status(std::string(labeling::kSessionCookie) + "=" + alice), 401);
  // API clients keep using the token as a bearer credential.
  EXPECT_EQ(get(alice, "/api/v1/me")->status, 200);
}

TEST_F(LabelingSessions, LogoutEndsTheSessionServerSide) {
  const std::string cookie = signed_in(alice);
  const std::string other_browser = signed_in(alice);
  ASSERT_EQ(me_status(cookie), 200);
  auto out = client().Post("/api/v1/logout", {{"Cookie", cookie}}, "", "application/json");
  ASSERT_EQ(out->status, 204);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  // A copy of the cookie replayed after logout is refused: the session is gone, not just forgotten.
  EXPECT_EQ(me_status(cookie), 401);
  EXPECT_EQ(client().Post("/api/v1/tasks/next", {{"Cookie", cookie}}, "", "application/json")->status, 401);
  EXPECT_EQ(count("SELECT count(*) FROM assignments"), 0);
  // Only that session ended.
  EXPECT_EQ(me_status(other_browser), 200);
  EXPECT_EQ(count("SELECT count(*) FROM sessions"), 1);
}

TEST_F(LabelingSessions, SigningInAgainReplacesTheBrowsersSession) {
  const std::string first = signed_in(alice);
  auto again = client().Post("/api/v1/login", {{"Cookie", first}}, json{{"token", bob}}.dump(), "application/json");
  ASSERT_EQ(again->status, 200);
  EXPECT_EQ(me_status(first), 401);
  EXPECT_EQ(json::parse(client().Get("/api/v1/me", {{"Cookie", cookie_pair(again)}})->body)["name"], "bob");
  EXPECT_EQ(count("SELECT count(*) FROM sessions"), 1);
}

TEST_F(LabelingSessions, RevokedLabelersSessionsEnd) {
  const std::string laptop = signed_in(alice);
  const std::string phone = signed_in(alice);
  const std::string bobs = signed_in(bob);
  ASSERT_EQ(post(admin, "/api/v1/admin/labelers/alice/revoke")->status, 200);
  EXPECT_EQ(count("SELECT count(*) FROM sessions s JOIN labelers l ON l.id = s.labeler_id WHERE l.name = 'alice'"), 0);
  EXPECT_EQ(me_status(laptop), 401);
  // Reactivating the account (by hand in the database) does not bring the old sessions back.
  storage::set_labeler_active(*observer, "alice", true);
  EXPECT_EQ(me_status(laptop), 401);
  EXPECT_EQ(me_status(phone), 401);
  EXPECT_EQ(me_status(bobs), 200);
}

TEST_F(LabelingSessions, RevokingFromTheCommandLineEndsSessionsToo) {
  const std::string cookie = signed_in(bob);
  labeling::revoke_labeler(*observer, "bob");  // what `rlhf labelers revoke` calls, from another process
  storage::set_labeler_active(*observer, "bob", true);
  EXPECT_EQ(me_status(cookie), 401);
}

TEST_F(LabelingSessions, ExpiredSessionIsRefused) {
  const std::string cookie = signed_in(alice);
  ASSERT_EQ(me_status(cookie), 200);
  observer->exec("UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'");
  auto res = client().Get("/api/v1/me", {{"Cookie", cookie}});
  EXPECT_EQ(res->status, 401);
  EXPECT_NE(json::parse(res->body)["error"]["message"].get<std::string>().find("log in again"), std::string::npos);
  EXPECT_EQ(count("SELECT count(*) FROM sessions"), 0) << "an expired session is deleted when presented";
}

TEST_F(LabelingSessions, LoginCookieLastsAsLongAsTheLongestSession) {
  auto res = login(alice);
  const std::string cookie = res->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("Max-Age=604800"), std::string::npos) << cookie;  // 7 days by default
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "Secure only when configured: " << cookie;
}

TEST_F(LabelingSessions, OriginFromHostHeaderIsNotTrusted) {
  // A DNS-rebinding page at evil.example (resolved to this server) sends its own name as Host
  // and as Origin; they agree with each other but not with the server's configured origins.
  const std::string evil = "evil.example:" + std::to_string(port);
  auto res = post(alice, "/api/v1/tasks/next", json::object(), {{"Host", evil}, {"Origin", "http://" + evil}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(json::parse(res->body)["error"]["code"], "bad_origin");
  EXPECT_EQ(count("SELECT count(*) FROM assignments"), 0);
  auto login_attempt = client().Post("/api/v1/login", {{"Host", evil}, {"Origin", "http://" + evil}},
                                     json{{"token", alice}}.dump(), "application/json");
  EXPECT_EQ(login_attempt->status, 403);
  EXPECT_EQ(count("SELECT count(*) FROM sessions"), 0);
  // The page loaded from the server's own address still works, by IP and by localhost.
  for (const std::string own : {"http://127.0.0.1:", "http://localhost:"}) {
    EXPECT_EQ(post(bob, "/api/v1/logout", json::object(), {{"Origin", own + std::to_string(port)}})->status, 204) << own;
  }
}

class LabelingSessionsBehindProxy : public LabelingSessions {
 protected:
  LabelingSessionsBehindProxy() {
    options.secure_cookies = true;
    options.public_origins = {"HTTPS://Label.Example.org:443/"};
  }
};

TEST_F(LabelingSessionsBehindProxy, SecureFlagWhenConfigured) {
  auto res = login(alice);
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Set-Cookie").find("; Secure"), std::string::npos) << res->get_header_value("Set-Cookie");
  auto out = client().Post("/api/v1/logout", {{"Cookie", cookie_pair(res)}}, "", "application/json");
  EXPECT_NE(out->get_header_value("Set-Cookie").find("; Secure"), std::string::npos) << "the clearing cookie must match";
}

TEST_F(LabelingSessionsBehindProxy, PublicOriginIsAcceptedInCanonicalForm) {
  auto from_proxy = post(alice, "/api/v1/tasks/next", json::object(), {{"Origin", "https://label.example.org"}});
  EXPECT_EQ(from_proxy->status, 200) << from_proxy->body;
  auto plain_http = post(bob, "/api/v1/tasks/next", json::object(), {{"Origin", "http://label.example.org"}});
  EXPECT_EQ(plain_http->status, 403);
  EXPECT_EQ(server->allowed_origins().back(), "https://label.example.org");
}

TEST(LabelingSessionOptions, BadPublicOriginIsRefusedAtStartWithOneClearLine) {
  labeling::ServerOptions options;
  options.public_origins = {"label.example.org/app"};
  try {
    labeling::LabelingServer server(temp_db("bad_origin"), options);
    FAIL() << "a public origin without a scheme must be refused";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'label.example.org/app'"), std::string::npos) << message;
    EXPECT_NE(message.find("https://"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  options.public_origins = {};
  options.sessions.idle_timeout = std::chrono::seconds(0);
  EXPECT_THROW(labeling::LabelingServer(temp_db("bad_idle"), options), std::invalid_argument);
}

TEST(LabelingOrigins, BindAddressGivesTheOriginsBrowsersUse) {
  using V = std::vector<std::string>;
  EXPECT_EQ(labeling::bind_origins("127.0.0.1", 8080), (V{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"}));
  EXPECT_EQ(labeling::bind_origins("0.0.0.0", 80), (V{"http://127.0.0.1", "http://localhost", "http://[::1]"}));
  EXPECT_EQ(labeling::bind_origins("10.0.0.5", 8080), (V{"http://10.0.0.5:8080"}));
  EXPECT_EQ(labeling::bind_origins("Label-Box", 8080), (V{"http://label-box:8080"}));
  EXPECT_EQ(labeling::normalize_origin("https://label.example.org:8443"), "https://label.example.org:8443");
  for (const char* bad : {"ftp://x.org", "https://", "https://x.org/path", "https://x.org:99999", "https://u@x.org", "null"}) {
    EXPECT_THROW(labeling::normalize_origin(bad), std::invalid_argument) << bad;
  }
}

// Lifetimes, on the session functions with an explicit clock.
class LabelingSessionLifetime : public ::testing::Test {
 protected:
  void SetUp() override {
    labeling::add_labeler(db, "carol", "labeler");
    carol = *storage::find_labeler_by_name(db, "carol");
    policy.idle_timeout = hours(1);
    policy.max_lifetime = hours(3);
  }
  bool alive(const std::string& id, labeling::SessionClock::time_point at) {
    return labeling::resume_session(db, id, policy, at).has_value();
  }
  storage::Database db = storage::open_database(temp_db("lifetime"));
  storage::Labeler carol;
  labeling::SessionPolicy policy;
  const labeling::SessionClock::time_point t0 = labeling::SessionClock::now();
};

TEST_F(LabelingSessionLifetime, ExpiredSessionIsRefusedAfterTheIdleTimeout) {
  const std::string idle = labeling::start_session(db, carol, policy, t0);
  EXPECT_TRUE(alive(idle, t0 + minutes(59)));
  EXPECT_FALSE(alive(idle, t0 + minutes(59) + hours(1)));
  EXPECT_FALSE(alive(idle, t0 + minutes(1)) ) << "once ended, a session stays ended";
}

TEST_F(LabelingSessionLifetime, UseExtendsASessionButNeverPastItsMaximum) {
  const std::string busy = labeling::start_session(db, carol, policy, t0);
  for (auto at = t0 + minutes(30); at < t0 + hours(3); at += minutes(30)) {
    EXPECT_TRUE(alive(busy, at)) << "used every 30 minutes, it stays alive";
  }
  EXPECT_FALSE(alive(busy, t0 + hours(3)));
}

TEST_F(LabelingSessionLifetime, LoginDeletesExpiredSessions) {
  labeling::start_session(db, carol, policy, t0);
  labeling::start_session(db, carol, policy, t0 + minutes(30));
  labeling::start_session(db, carol, policy, t0 + hours(2));  // the first two have expired by now
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM sessions"), 1);
}

TEST(LabelingSessionSchema, OldDatabaseGainsSessionsTable) {
  const std::string path = temp_db("schema_v2");
  {
    storage::Database old_db(path);
    storage::configure_connection(old_db);
    storage::migrate(old_db, 2);
    import_fixture(old_db, "tasks.jsonl");
    storage::insert_labeler(old_db, "early", "labeler", labeling::sha256_hex("early-token"), "2025-01-01T00:00:00Z");
  }
  labeling::LabelingServer server(path);  // opens and migrates, as `rlhf serve` does
  auto db = storage::open_database(path);
  EXPECT_EQ(storage::schema_version(db), storage::latest_schema_version());
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM sessions"), 0);
  EXPECT_GT(count_rows(db, "SELECT count(*) FROM prompts"), 0) << "nothing saved before is lost";
  const auto early = storage::find_labeler_by_name(db, "early");
  ASSERT_TRUE(early.has_value());
  const std::string id = labeling::start_session(db, *early, {}, labeling::SessionClock::now());
  EXPECT_TRUE(labeling::resume_session(db, id, {}, labeling::SessionClock::now()).has_value());
}
