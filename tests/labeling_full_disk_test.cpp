// A full disk is 507 with a clear message, /healthz says so, nothing half-written is left, and
// writes resume by themselves once space is freed. The disk is a real 1 MiB tmpfs, mounted in a
// forked child's own mount namespace (skipped where the test may not mount one).
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "labeling_fixtures.h"

using namespace rlhf;
using namespace rlhf::test;

namespace {

constexpr int kCannotMount = 77;

// Runs in the child: returns what it saw as "<next> <healthz writes> | <next> <healthz writes> <integrity>".
std::string fill_the_disk_and_free_it(const std::string& dir) {
  const std::string path = dir + "/labels.db";
  std::string token;
  {
    auto db = storage::open_database(path);
    import_fixture(db, "tasks.jsonl");
    token = labeling::add_labeler(db, "alice", "labeler").token;
  }
  std::string seen;
  {
    labeling::LabelingServer server(path);
    const int port = server.bind("127.0.0.1", 0);
    std::thread serving([&] { server.run(); });
    struct StopOnExit {  // also when a check throws: a joinable thread must not be destroyed
      labeling::LabelingServer& server;
      std::thread& thread;
      ~StopOnExit() {
        server.stop();
        thread.join();
      }
    } stop_on_exit{server, serving};
    httplib::Client client("127.0.0.1", port);
    const httplib::Headers auth = {{"Authorization", "Bearer " + token}};
    const auto next = [&] {
      auto res = client.Post("/api/v1/tasks/next", auth, "{}", "application/json");
      if (!res) return std::string("none");
      if (res->status < 500) return std::to_string(res->status);
      return std::to_string(res->status) + ":" + json::parse(res->body)["error"].value("code", std::string("?"));
    };
    const auto health = [&] {
      auto res = client.Get("/healthz");
      if (!res) return std::string("none");
      return std::to_string(res->status) + ":" + json::parse(res->body).value("writes", std::string("?"));
    };
    health();  // served: from here on stop() cannot come before run() has started
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the health probe's interval
    {
      std::ofstream filler(dir + "/filler", std::ios::binary);
      const std::string block(4096, 'x');
      while (filler.write(block.data(), block.size())) {
      }
    }
    // One call per statement: the operands of + are evaluated in no fixed order.
    seen = next();
    seen += " " + next();
    seen += " " + health();
    std::filesystem::remove(dir + "/filler");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    seen += " | " + next();
    seen += " " + health();
  }
  auto db = storage::open_database(path);
  storage::Statement check = db.prepare("PRAGMA integrity_check");
  check.step();
  return seen + " " + check.column_text(0) + " " + std::to_string(count_rows(db, "SELECT count(*) FROM assignments"));
}

}  // namespace

TEST(LabelingFullDisk, AFullDiskIs507HealthzSaysSoAndWritesResumeWhenSpaceIsFreed) {
  const std::string dir = temp_db("full_disk") + ".d";  // the mount point; empty outside the child
  std::filesystem::create_directory(dir);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m") != 0) {
      ::_exit(kCannotMount);
    }
    std::string seen;
    try {
      seen = fill_the_disk_and_free_it(dir);
    } catch (const std::exception& error) {
      seen = std::string("exception: ") + error.what();
    }
    (void)!::write(fds[1], seen.data(), seen.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string seen;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) seen.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::filesystem::remove_all(dir);
  if (WIFEXITED(status) && WEXITSTATUS(status) == kCannotMount) GTEST_SKIP() << "cannot mount a tmpfs here";
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child wait status " << status << (WIFSIGNALED(status) ? ", signal " + std::to_string(WTERMSIG(status)) : "") << ": " << seen;
  EXPECT_EQ(seen, "507:storage_full 507:storage_full 503:disk_full | 200 200:ok ok 1");
}
