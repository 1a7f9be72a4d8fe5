#include "labeling/server.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "labeling/accounts.h"
#include "labeling/export.h"
#include "labeling/http_util.h"
#include "labeling/import.h"
#include "labeling/limits.h"
#include "labeling/origins.h"
#include "labeling/page_assets.h"
#include "labeling/sessions.h"
#include "labeling/stats.h"
#include "labeling/tasks.h"
#include "labeling/write_health.h"
#include "storage/assignments.h"
#include "storage/labelers.h"
#include "storage/schema.h"

namespace rlhf::labeling {
namespace {

const httplib::Headers kSecurityHeaders = {
    {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
};

enum class Access { Anyone, Labeler, Admin };

// Connection handling, sized for a room of labelers opening the page at once; see
// configure_connections() and bench/README.md (bench_labeling_load, 50 labelers) for why.
constexpr size_t kWorkerThreads = 64;
constexpr size_t kKeepAliveMaxRequests = 1000;
constexpr int kListenBacklog = 128;
// /healthz commits a probe at most this often, however often it is asked.
constexpr std::chrono::seconds kWriteProbeInterval{1};

int64_t id_from(const httplib::Request& req) { return std::stoll(req.matches[1].str()); }

// httplib applies a request's Range header to whatever response is written, the JSON API and
// errors included, and answers N ranges with N multipart copies (overlaps allowed, no cap). Only
// the page's files honour Range, and only a single range: for more, the whole file is sent once
// (a server may ignore Range, and every client accepts a 200), which never costs more than the
// file itself. httplib hands its own, non-const Request to these callbacks as const, so clearing
// the parsed ranges is well-defined; it is the one place to change them before the response.
void limit_ranges(const httplib::Request& req, bool allow_one) {
  if (req.ranges.size() > 1 || (!req.ranges.empty() && !allow_one)) {
    const_cast<httplib::Request&>(req).ranges.clear();
  }
}

// The write end of the pipe through which the signal handler wakes StopSignals' watcher; -1 when
// no one listens. A lock-free atomic int is safe to read in a signal handler.
std::atomic<int> stop_signal_pipe{-1};

extern "C" void on_stop_signal(int) {
  const int saved_errno = errno;  // write() may change it under the interrupted code's feet
  const char byte = 's';
  const int fd = stop_signal_pipe.load();
  if (fd >= 0) (void)!::write(fd, &byte, 1);
  errno = saved_errno;
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// While alive, SIGINT and SIGTERM make a watcher thread call on_signal (once), outside any signal
// handler. A process-directed signal goes to any thread that does not block it, and a library may
// have started threads before this (the LibTorch build has one): blocking the signals in this
// thread alone left them to such a thread, where the default action killed the process. So a
// handler is installed (it runs in whichever thread gets the signal and only writes to a pipe),
// and the signals are blocked in this thread so that the server's workers, started later, inherit
// the mask and are never interrupted mid-request.
class StopSignals {
 public:
  explicit StopSignals(std::function<void()> on_signal) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    read_end_ = std::make_unique<FileDescriptor>(fds[0]);
    write_end_ = std::make_unique<FileDescriptor>(fds[1]);
    stop_signal_pipe = write_end_->get();
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
    watcher_ = std::thread([this, on_signal] {
      pthread_sigmask(SIG_UNBLOCK, &signals_, nullptr);
      char byte = 0;
      while (::read(read_end_->get(), &byte, 1) < 0 && errno == EINTR) {
      }
      if (byte == 's') on_signal();
    });
  }

  ~StopSignals() {
    const char quit = 'q';  // ends the watcher if no signal came
    (void)!::write(write_end_->get(), &quit, 1);
    watcher_.join();
    stop_signal_pipe = -1;
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
  }

  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  std::unique_ptr<FileDescriptor> read_end_, write_end_;
  struct sigaction previous_int_ {}, previous_term_ {};
  sigset_t signals_{}, previous_mask_{};
  std::thread watcher_;
};

// The options with the public origins in canonical form; throws naming a bad setting, before
// anything (the database file) is created.
ServerOptions checked(ServerOptions options) {
  check_session_policy(options.sessions);
  for (auto& origin : options.public_origins) origin = normalize_origin(origin);
  return options;
}

}  // namespace

struct LabelingServer::Impl {
  storage::Database db;
  std::mutex db_mutex;
  // /healthz has its own connection and lock, so it never queues behind a request that waits
  // for the write lock (WAL readers do not wait for writers).
  storage::Database health_db;
  std::mutex health_mutex;
  std::chrono::steady_clock::time_point last_probe;
  bool probed = false;
  WriteHealth write_health{std::cerr};
  httplib::Server http;
  int listening_socket = -1;  // recorded by the socket options callback during bind()
  const ServerOptions settings;  // checked; "options" is the /options handler
  // Set by bind(), before run() starts the workers that read it; never changed after.
  std::vector<std::string> allowed_origins;

  Impl(const std::string& path, ServerOptions checked_options)
      : db(storage::open_database(path)), health_db(storage::open_database(path)), settings(std::move(checked_options)) {
    health_db.exec("PRAGMA busy_timeout = 0");  // the probe must never wait for the lock
  }

  using LabelerHandler = std::function<void(const httplib::Request&, httplib::Response&, const storage::Labeler&)>;

  // Every API handler runs here: headers, Origin check, authentication and role, the database
  // lock, and the translation of exceptions into JSON errors.
  httplib::Server::Handler api(Access access, LabelerHandler handler) {
    return [this, access, handler](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      try {
        if (req.method == "POST") check_origin(req);
        std::lock_guard<std::mutex> lock(db_mutex);
        storage::Labeler labeler;
        if (access != Access::Anyone) labeler = authorise(req, access);
        const int64_t changes_before = db.total_changes();
        handler(req, res, labeler);
        // Handlers commit before they answer 2xx, so a changed row here is a committed write.
        if (res.status < 300 && db.total_changes() != changes_before) write_health.succeeded();
      } catch (const ApiError& error) {
        send_error(res, error);
      } catch (const storage::SqliteError& error) {
        const auto answer = storage_failure_answer(error);
        if (!answer) return internal_error(req, res, error);
        write_health.failed(error);
        if (error.busy()) res.set_header("Retry-After", std::to_string(kBusyRetryAfterSeconds));
        send_error(res, *answer);
      } catch (const std::exception& error) {
        internal_error(req, res, error);
      }
    };
  }

  // Copies the WAL into the database file and empties it, so that a stopped server leaves one
  // self-contained file behind.
  void checkpoint_wal() {
    std::lock_guard<std::mutex> lock(db_mutex);
    try {
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& error) {
      std::cerr << "warning: the WAL was not checkpointed: " << error.what() << std::endl;
    }
  }

  static void internal_error(const httplib::Request& req, httplib::Response& res, const std::exception& error) {
    std::cerr << "error: " << req.method << " " << req.path << ": " << error.what() << std::endl;
    send_error(res, ApiError(500, "internal", "internal error; see the server log"));
  }

  // At most once per kWriteProbeInterval, one tiny commit on the health connection (the schema
  // version rewritten unchanged) without waiting for the lock: it shows whether the file, its
  // directory and the disk take a commit. A lock held right now says nothing either way.
  void probe_writes(int schema_version) {
    const auto now = std::chrono::steady_clock::now();
    if (probed && now - last_probe < kWriteProbeInterval) return;
    probed = true;
    last_probe = now;
    try {
      storage::Transaction probe(health_db);
      health_db.exec("PRAGMA user_version = " + std::to_string(schema_version));
      probe.commit();
      write_health.probe_succeeded();
    } catch (const storage::SqliteError& error) {
      if (!error.busy()) write_health.failed(error);
    }
  }

  void check_origin(const httplib::Request& req) const {
    if (!req.has_header("Origin")) return;  // not from a browser (curl, API clients, tests)
    const std::string origin = req.get_header_value("Origin");
    if (origin_allowed(origin, allowed_origins)) return;
    throw ApiError(403, "bad_origin", "requests from origin '" + origin + "' are refused: it is not one of this "
                                      "server's origins (an operator adds one with --public-origin)");
  }

  // A bearer token (API clients) or else the session cookie (the page). The cookie never
  // carries a token, so a token there is refused like any unknown session.
  storage::Labeler authorise(const httplib::Request& req, Access access) {
    std::optional<storage::Labeler> labeler;
    if (const auto token = bearer_token(req)) {
      labeler = authenticate(db, *token);
      if (!labeler) throw ApiError(401, "unauthorized", "unknown or revoked token");
    } else if (const auto session_id = session_id_from_cookie(req)) {
      labeler = resume_session(db, *session_id, settings.sessions, SessionClock::now());
      if (!labeler) throw ApiError(401, "unauthorized", "the session has ended; log in again");
    } else {
      throw ApiError(401, "unauthorized", "log in or send Authorization: Bearer <token>");
    }
    if (access == Access::Admin && labeler->role != "admin") throw ApiError(403, "forbidden", "admin only");
    return *labeler;
  }

  void add_session_routes() {
    http.Post("/api/v1/login", api(Access::Anyone, [this](const auto& req, auto& res, const auto&) {
      const json body = parse_json_body(req, kMaxBodyBytes);
      std::string token;
      try {
        require_object(body, "body");
        reject_unknown_fields(body, {"token"});
        token = required_string(body, "token", 256, "token");
      } catch (const FieldError& error) {
        throw ApiError(422, "invalid_request", error.field + ": " + error.what(), error.field);
      }
      auto labeler = authenticate(db, token);
      if (!labeler) throw ApiError(401, "unauthorized", "unknown or revoked token");
      // Signing in again in the same browser replaces its session rather than orphaning it.
      if (const auto previous = session_id_from_cookie(req)) end_session(db, *previous);
      const std::string session_id = start_session(db, *labeler, settings.sessions, SessionClock::now());
      res.set_header("Set-Cookie", session_cookie(session_id, settings.sessions.max_lifetime, settings.secure_cookies));
      send_json(res, 200, {{"name", labeler->name}, {"role", labeler->role}});
    }));
    // Ends the session on the server: a copy of the cookie kept elsewhere stops working too.
    http.Post("/api/v1/logout", api(Access::Anyone, [this](const auto& req, auto& res, const auto&) {
      if (const auto session_id = session_id_from_cookie(req)) end_session(db, *session_id);
      res.set_header("Set-Cookie", expired_session_cookie(settings.secure_cookies));
      res.status = 204;
    }));
  }

  void add_labeler_routes() {
    http.Get("/api/v1/me", api(Access::Labeler, [this](const auto&, auto& res, const auto& labeler) {
      send_json(res, 200, me(db, labeler));
    }));
    http.Get("/api/v1/options", api(Access::Labeler, [this](const auto&, auto& res, const auto&) {
      send_json(res, 200, options(db));
    }));
    http.Post("/api/v1/tasks/next", api(Access::Labeler, [this](const auto& req, auto& res, const auto& labeler) {
      // No fields: an empty body or {}. Anything else is a client bug worth naming.
      const json body = parse_json_body(req, kMaxBodyBytes);
      try {
        require_object(body, "body");
        reject_unknown_fields(body, {});
      } catch (const FieldError& error) {
        const bool unknown = body.is_object();
        throw ApiError(422, unknown ? "unknown_field" : "invalid_request", error.field + ": " + error.what(), error.field);
      }
      send_json(res, 200, next_task(db, labeler));
    }));
    http.Get(R"(/api/v1/assignments/(\d{1,18}))", api(Access::Labeler, [this](const auto& req, auto& res, const auto& labeler) {
      send_json(res, 200, get_assignment(db, labeler, id_from(req)));
    }));
    http.Post(R"(/api/v1/assignments/(\d{1,18})/submit)", api(Access::Labeler, [this](const auto& req, auto& res, const auto& labeler) {
      if (!req.has_header("Idempotency-Key")) {
        throw ApiError(400, "invalid_request", "the Idempotency-Key header is required", "Idempotency-Key");
      }
      const json body = parse_json_body(req, kMaxBodyBytes);
      SubmitOutcome outcome = submit(db, labeler, id_from(req), req.get_header_value("Idempotency-Key"), body);
      if (outcome.status == 200) res.set_header("Idempotent-Replayed", "true");
      send_json(res, outcome.status, outcome.body);
    }));
    http.Post(R"(/api/v1/assignments/(\d{1,18})/skip)", api(Access::Labeler, [this](const auto& req, auto& res, const auto& labeler) {
      send_json(res, 200, skip(db, labeler, id_from(req), parse_json_body(req, kMaxBodyBytes)));
    }));
  }

  void add_admin_routes() {
    http.Get("/api/v1/admin/labelers", api(Access::Admin, [this](const auto&, auto& res, const auto&) {
      json list = json::array();
      for (const auto& labeler : storage::list_labelers(db)) {
        if (labeler.role == "external") continue;
        const storage::AssignmentCounts done = storage::count_assignments(db, labeler.id);
        list.push_back({{"name", labeler.name}, {"role", labeler.role}, {"active", labeler.active},
                        {"created_at", labeler.created_at},
                        {"submitted", done.submitted},
                        {"skipped", done.skipped}});
      }
      send_json(res, 200, {{"labelers", list}});
    }));
    http.Post("/api/v1/admin/labelers", api(Access::Admin, [this](const auto& req, auto& res, const auto&) {
      send_json(res, 201, create_labeler(parse_json_body(req, kMaxBodyBytes)));
    }));
    http.Post(R"(/api/v1/admin/labelers/([A-Za-z0-9_.-]{1,64})/revoke)", api(Access::Admin, [this](const auto& req, auto& res, const auto&) {
      const std::string name = req.matches[1].str();
      auto labeler = storage::find_labeler_by_name(db, name);
      if (!labeler || labeler->role == "external") throw ApiError(404, "not_found", "no labeler named '" + name + "'");
      revoke_labeler(db, name);
      send_json(res, 200, {{"name", name}, {"active", false}});
    }));
    http.Post("/api/v1/admin/import", api(Access::Admin, [this](const auto& req, auto& res, const auto&) {
      const std::string format = req.has_param("format") ? req.get_param_value("format") : "auto";
      if (format != "auto" && format != "tasks" && format != "hh") {
        throw ApiError(422, "invalid_request", "format must be auto, tasks or hh", "format");
      }
      std::istringstream input(req.body);
      try {
        const ImportSummary summary = import_jsonl(db, input, parse_import_format(format), "upload");
        send_json(res, 200, {{"imported", summary.imported}, {"unchanged", summary.unchanged}});
      } catch (const ImportError& error) {
        json detail = {{"code", "invalid_import"}, {"message", error.what()}, {"line", error.line}, {"field", error.field}};
        send_json(res, 422, {{"error", detail}});
      }
    }));
    http.Get("/api/v1/admin/stats", api(Access::Admin, [this](const auto&, auto& res, const auto&) {
      send_json(res, 200, labeling_stats(db));
    }));
    http.Get("/api/v1/admin/export", api(Access::Admin, [this](const auto& req, auto& res, const auto&) {
      const std::string format = req.has_param("format") ? req.get_param_value("format") : "rankings";
      if (format != "rankings" && format != "pairs") {
        throw ApiError(422, "invalid_request", "format must be rankings or pairs", "format");
      }
      std::ostringstream out;
      export_jsonl(db, parse_export_format(format), out);
      res.status = 200;
      res.set_content(out.str(), "application/x-ndjson");
    }));
  }

  json create_labeler(const json& body) {
    std::string name, role;
    try {
      require_object(body, "body");
      reject_unknown_fields(body, {"name", "role"});
      name = required_string(body, "name", 64, "name");
      role = optional_string(body, "role", 16, "role").value_or("labeler");
    } catch (const FieldError& error) {
      throw ApiError(422, "invalid_request", error.field + ": " + error.what(), error.field);
    }
    if (!is_valid_labeler_name(name)) throw ApiError(422, "invalid_request", "name: use 1-64 characters of A-Z a-z 0-9 _ . -", "name");
    if (role != "labeler" && role != "admin") throw ApiError(422, "invalid_request", "role: must be labeler or admin", "role");
    if (storage::find_labeler_by_name(db, name) || name == kHhLabelerName) {
      throw ApiError(409, "conflict", "labeler '" + name + "' already exists", "name");
    }
    const NewAccount account = add_labeler(db, name, role);
    return {{"name", account.name}, {"role", account.role}, {"token", account.token}};
  }

  void add_public_routes() {
    http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      std::lock_guard<std::mutex> lock(health_mutex);
      const int version = storage::schema_version(health_db);
      probe_writes(version);
      const WriteState writes = write_health.state();
      json body = {{"status", writes == WriteState::Ok ? "ok" : "unavailable"},
                   {"schema_version", version},
                   {"writes", write_state_name(writes)}};
      if (writes != WriteState::Ok) body["message"] = write_state_hint(writes);
      send_json(res, writes == WriteState::Ok ? 200 : 503, body);
    });
    // The page, last: anything not routed above. API paths never fall through to HTML.
    http.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
      const PageAsset* asset = req.path.rfind("/api/", 0) == 0 ? nullptr : find_page_asset(req.path);
      if (!asset) {
        res.set_header("Cache-Control", "no-store");
        send_error(res, ApiError(404, "not_found", "no such path: " + req.path));
        return;
      }
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(asset->body), std::string(asset->content_type).c_str());
    });
  }

  // httplib's defaults serve a handful of clients; 50 concurrent labelers saw slow responses and
  // connection errors (figures: bench/README.md, the labeling load test). What each setting fixes:
  void configure_connections() {
    // httplib sends the headers and the body of a response in separate writes; with Nagle on,
    // the body waits for the client's delayed ACK (~40 ms) on every response.
    http.set_tcp_nodelay(true);
    // A keep-alive connection holds a worker thread until it closes or idles for 5 s, so the
    // default 8 workers (max(8, cores - 1)) serve 8 connections and queue the rest. Handlers
    // still serialise on db_mutex; the extra threads only wait on their sockets.
    http.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
    // The default closes a connection after 5 requests, so every client reconnects (and queues
    // for a worker again) every 5 requests.
    http.set_keep_alive_max_count(kKeepAliveMaxRequests);
    // This replaces httplib's default options, which on Linux set only SO_REUSEPORT: that lets
    // a second server bind the same port and silently take half the connections. SO_REUSEADDR
    // only lets a restarted server rebind while the old connections are in TIME_WAIT. The
    // socket is recorded so that bind() can raise the listen backlog.
    http.set_socket_options([this](socket_t sock) {
      const int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listening_socket = sock;
    });
  }

  void configure() {
    configure_connections();
    http.set_default_headers(kSecurityHeaders);
    http.set_payload_max_length(kMaxImportBytes);
    // Refuse an oversize body from its Content-Length before reading it; the import alone may
    // be large. (A chunked body is capped by set_payload_max_length and checked in the handler.)
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      const bool page_file = find_page_asset(req.path) != nullptr;
      limit_ranges(req, page_file);
      // httplib runs the GET handler for HEAD and drops the body: HEAD /admin/export would build
      // the whole export. The page's files are static bytes, so HEAD is served for them only.
      if (req.method == "HEAD" && !page_file) {
        res.set_header("Cache-Control", "no-store");
        res.set_header("Allow", "GET");
        send_error(res, ApiError(405, "method_not_allowed", "HEAD is served only for the page's files; use GET"));
        return httplib::Server::HandlerResponse::Handled;
      }
      const size_t limit = req.path == "/api/v1/admin/import" ? kMaxImportBytes : kMaxBodyBytes;
      if (req.get_header_value<uint64_t>("Content-Length") > limit) {
        send_error(res, ApiError(413, "payload_too_large", "request body is larger than " + std::to_string(limit) + " bytes"));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    // Errors httplib produces itself (unrouted method, 413 while reading, bad request line).
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          limit_ranges(req, false);  // an error is never partial (a bad Range header gets here too)
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          res.set_header("Cache-Control", "no-store");
          const char* code = res.status == 413 ? "payload_too_large"
                             : res.status == 405 ? "method_not_allowed"
                             : res.status == 404 ? "not_found"
                             : res.status == 400 ? "invalid_request"
                                                 : "http_error";
          send_error(res, ApiError(res.status, code, "HTTP " + std::to_string(res.status)));
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      send_error(res, ApiError(500, "internal", "internal error"));
    });
    add_session_routes();
    add_labeler_routes();
    add_admin_routes();
    add_public_routes();
  }
};

LabelingServer::LabelingServer(const std::string& database_path, ServerOptions options)
    : impl_(std::make_unique<Impl>(database_path, checked(std::move(options)))) {
  impl_->configure();
}

LabelingServer::~LabelingServer() = default;

int LabelingServer::bind(const std::string& host, int port) {
  const bool ok = port == 0 ? (port = impl_->http.bind_to_any_port(host)) > 0 : impl_->http.bind_to_port(host, port);
  if (!ok) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + " (in use or not allowed?)");
  // httplib 0.11.4 listens with a backlog of 5, compiled into Debian's libcpp-httplib, so a
  // burst of connections overflows the accept queue and clients see failed connections. On
  // Linux, listen() on a listening socket sets the new backlog (capped by net.core.somaxconn).
  // listening_socket is the last socket httplib created, the one that bound (it closes any
  // address it failed to bind before trying the next).
  if (::listen(impl_->listening_socket, kListenBacklog) != 0) {
    throw std::runtime_error("cannot raise the listen backlog on " + host + ":" + std::to_string(port) + ": " +
                             std::strerror(errno));
  }
  impl_->allowed_origins = bind_origins(host, port);
  for (const auto& origin : impl_->settings.public_origins) impl_->allowed_origins.push_back(origin);
  return port;
}

const std::vector<std::string>& LabelingServer::allowed_origins() const { return impl_->allowed_origins; }

void LabelingServer::run() {
  if (!impl_->http.listen_after_bind()) throw std::runtime_error("the HTTP server stopped with an error");
}

void LabelingServer::stop() { impl_->http.stop(); }

void LabelingServer::run_until_signal() {
  std::atomic<bool> finished{false};
  {
    StopSignals signals([this, &finished] {
      std::cerr << "shutting down" << std::endl;
      // A signal that comes while run() is still starting must not be lost: stop() only acts on
      // a running server.
      while (!impl_->http.is_running() && !finished) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      stop();
    });
    try {
      run();  // returns once the workers have finished the requests in flight
    } catch (...) {
      finished = true;
      throw;
    }
    finished = true;
  }
  impl_->checkpoint_wal();
}

}  // namespace rlhf::labeling
