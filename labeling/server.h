// The labeling HTTP server: the /api/v1 JSON API (API.md), /healthz and the embedded page.
// One SQLite connection behind a mutex: SQLite serialises writers anyway, and labeling traffic
// (a few requests per labeler per minute) is far below what one connection serves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "labeling/sessions.h"

namespace rlhf::labeling {

struct ServerOptions {
  SessionPolicy sessions;  // how long a browser stays signed in
  // Marks the session cookie Secure. Set it when browsers reach the server over https (a
  // TLS-terminating proxy): the cookie then never travels in clear text.
  bool secure_cookies = false;
  // Where browsers load the page from besides the bound address, e.g. "https://label.example.org"
  // behind a proxy. POSTs from any other origin are refused (403 bad_origin).
  std::vector<std::string> public_origins;
};

class LabelingServer {
 public:
  // Opens (creating and migrating) the database; throws with the path on failure, and with the
  // setting for invalid options.
  explicit LabelingServer(const std::string& database_path, ServerOptions options = {});
  ~LabelingServer();
  LabelingServer(const LabelingServer&) = delete;
  LabelingServer& operator=(const LabelingServer&) = delete;

  // Binds host:port (port 0 picks a free port) and returns the bound port. Throws on failure.
  int bind(const std::string& host, int port);
  // The origins browser POSTs are accepted from: the bound address's (known after bind()) and
  // the public origins.
  const std::vector<std::string>& allowed_origins() const;
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
