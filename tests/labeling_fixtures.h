// Helpers shared by the labeling tests: temporary databases, the fixture data, and a server on
// port 0 running on a thread with an httplib client.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "labeling/accounts.h"
#include "labeling/import.h"
#include "labeling/server.h"
#include "storage/schema.h"

namespace rlhf::test {

using nlohmann::json;

inline std::string fixture_path(const std::string& name) {
  return std::string(RLHF_TEST_DATA_DIR) + "/labeling/" + name;
}

inline std::string temp_db(const std::string& name) {
  static std::atomic<int> counter{0};
  const auto path = std::filesystem::temp_directory_path() /
                    ("rlhf_labeling_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

inline labeling::ImportSummary import_fixture(storage::Database& db, const std::string& name) {
  std::ifstream input(fixture_path(name));
  return labeling::import_jsonl(db, input, labeling::ImportFormat::Auto, name);
}

inline int64_t count_rows(storage::Database& db, const std::string& sql) {
  storage::Statement query = db.prepare(sql);
  query.step();
  return query.column_int(0);
}

// A database with the fixture tasks, two labelers and an admin, served on a free port.
class LabelingApi : public ::testing::Test {
 protected:
  void SetUp() override {
    path = temp_db("api");
    {
      auto db = storage::open_database(path);
      import_fixture(db, "tasks.jsonl");
      alice = labeling::add_labeler(db, "alice", "labeler").token;
      bob = labeling::add_labeler(db, "bob", "labeler").token;
      admin = labeling::add_labeler(db, "root", "admin").token;
    }
    server = std::make_unique<labeling::LabelingServer>(path, options);
    port = server->bind("127.0.0.1", 0);
    thread = std::thread([this] { server->run(); });
    observer = std::make_unique<storage::Database>(storage::open_database(path));
  }
  void TearDown() override {
    server->stop();
    thread.join();
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c;
  }
  static httplib::Headers auth(const std::string& token, httplib::Headers extra = {}) {
    extra.emplace("Authorization", "Bearer " + token);
    return extra;
  }
  httplib::Result post(const std::string& token, const std::string& target, const json& body = json::object(),
                       httplib::Headers extra = {}) {
    return client().Post(target.c_str(), auth(token, extra), body.dump(), "application/json");
  }
  httplib::Result get(const std::string& token, const std::string& target) {
    return client().Get(target.c_str(), auth(token));
  }
  json next_assignment(const std::string& token) {
    auto res = post(token, "/api/v1/tasks/next");
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body)["assignment"];
  }
  // A strict ranking of the shown responses, best = lowest database id (import order).
  static json ascending_tiers(const json& assignment, bool reverse = false) {
    std::vector<int64_t> ids;
    for (const auto& response : assignment["responses"]) ids.push_back(response["id"].get<int64_t>());
    std::sort(ids.begin(), ids.end());
    if (reverse) std::reverse(ids.begin(), ids.end());
    json tiers = json::array();
    for (int64_t id : ids) tiers.push_back(json::array({id}));
    return tiers;
  }
  httplib::Result submit(const std::string& token, int64_t assignment_id, const json& body, const std::string& key) {
    return post(token, "/api/v1/assignments/" + std::to_string(assignment_id) + "/submit", body,
                {{"Idempotency-Key", key}});
  }
  int64_t count(const std::string& sql) { return count_rows(*observer, sql); }

  labeling::ServerOptions options;  // a derived fixture may set these in its constructor
  std::string path, alice, bob, admin;
  int port = 0;
  std::unique_ptr<labeling::LabelingServer> server;
  std::thread thread;
  std::unique_ptr<storage::Database> observer;  // a second connection, as another process would have
};

}  // namespace rlhf::test
