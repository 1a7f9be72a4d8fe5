// SIGTERM and SIGINT stop `rlhf serve` cleanly: the request in flight is answered, the process
// exits normally and the WAL is checkpointed into the database file. The server runs in a forked
// child that, like the LibTorch build, already has a thread that does not block the signals.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "labeling_fixtures.h"

using namespace rlhf;
using namespace rlhf::test;

namespace {

// The child: an early thread with the default signal mask, then the server until a signal.
[[noreturn]] void serve_in_child(const std::string& path, int port_pipe) {
  std::thread([] {
    for (;;) ::pause();
  }).detach();
  int code = 0;
  try {
    labeling::LabelingServer server(path);
    const int port = server.bind("127.0.0.1", 0);
    if (::write(port_pipe, &port, sizeof port) != sizeof port) ::_exit(3);
    server.run_until_signal();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "child: %s\n", error.what());
    code = 2;
  }
  ::_exit(code);  // the server and its database are closed by now
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

bool send_all(int fd, const std::string& text) {
  return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

std::string read_until_closed(int fd) {
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) text.append(buffer, static_cast<size_t>(n));
  return text;
}

// Starts the child, sends half a request, signals, sends the rest; returns the answer and the
// child's wait status.
std::pair<std::string, int> stop_with(int signal_number, const std::string& path, const std::string& token) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    serve_in_child(path, fds[1]);
  }
  ::close(fds[1]);
  int port = 0;
  EXPECT_EQ(::read(fds[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  ::close(fds[0]);
  // Wait until it serves, so that the signal cannot come before run() starts.
  for (int i = 0; i < 100; ++i) {
    httplib::Client probe("127.0.0.1", port);
    if (auto res = probe.Get("/healthz"); res && res->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int fd = connect_to(port);
  EXPECT_GE(fd, 0);
  EXPECT_TRUE(send_all(fd, "POST /api/v1/tasks/next HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                               "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the worker now waits for the body
  ::kill(child, signal_number);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  send_all(fd, "}");
  const std::string answer = read_until_closed(fd);
  ::close(fd);
  int status = 0;
  for (int i = 0; i < 200 && ::waitpid(child, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (::waitpid(child, &status, WNOHANG) == 0) {  // still running after 10 s: do not leave it behind
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    ADD_FAILURE() << "the server did not stop within 10 s";
  }
  return {answer, status};
}

class LabelingShutdown : public ::testing::TestWithParam<int> {};

}  // namespace

TEST_P(LabelingShutdown, ASignalFinishesTheRequestInFlightExitsCleanlyAndCheckpointsTheWal) {
  const std::string path = temp_db("shutdown");
  std::string token;
  {
    auto db = storage::open_database(path);
    import_fixture(db, "tasks.jsonl");
    token = labeling::add_labeler(db, "alice", "labeler").token;
  }
  const auto [answer, status] = stop_with(GetParam(), path, token);
  ASSERT_TRUE(WIFEXITED(status)) << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) : "");
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("\"assignment\""), std::string::npos) << answer;
  // The answered assignment is in the database file itself, and no WAL content is left over.
  const std::string wal = path + "-wal";
  EXPECT_TRUE(!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0);
  auto db = storage::open_database(path);
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM assignments"), 1);
}

INSTANTIATE_TEST_SUITE_P(SigtermAndSigint, LabelingShutdown, ::testing::Values(SIGTERM, SIGINT),
                         [](const auto& info) { return info.param == SIGTERM ? std::string("SIGTERM") : std::string("SIGINT"); });
