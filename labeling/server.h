// The labeling HTTP server: the /api/v1 JSON API (API.md), /healthz and the embedded page.
// One SQLite connection behind a mutex: SQLite serialises writers anyway, and labeling traffic
// (a few requests per labeler per minute) is far below what one connection serves.
#pragma once

#include <memory>
#include <string>

namespace rlhf::labeling {

class LabelingServer {
 public:
  // Opens (creating and migrating) the database; throws with the path on failure.
  explicit LabelingServer(const std::string& database_path);
  ~LabelingServer();
  LabelingServer(const LabelingServer&) = delete;
  LabelingServer& operator=(const LabelingServer&) = delete;

  // Binds host:port (port 0 picks a free port) and returns the bound port. Throws on failure.
  int bind(const std::string& host, int port);
  // Serves until stop() is called (from any thread).
  void run();
  // run(), but SIGINT and SIGTERM stop the server cleanly: in-flight requests finish, the WAL is
  // checkpointed into the database file, and every committed label is already durable
  // (synchronous=FULL). Works whatever threads the process started before; one server at a time.
  void run_until_signal();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rlhf::labeling
