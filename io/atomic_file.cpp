#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rlhf {
namespace {

// Owns a POSIX file descriptor.
class FileDescriptor {
 public:
  FileDescriptor(const std::filesystem::path& path, int flags, mode_t mode = 0644)
      : fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {
    if (fd_ < 0) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  ~FileDescriptor() { if (fd_ >= 0) ::close(fd_); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void fsync_path(const std::filesystem::path& path) {
  FileDescriptor fd(path, O_RDONLY);
  if (::fsync(fd.get()) != 0 && errno != EINVAL)
    throw std::runtime_error("cannot fsync " + path.string() + ": " + std::strerror(errno));
}

void write_file_atomic(const std::filesystem::path& path, std::string_view contents) {
  auto tmp = path;
  tmp += ".tmp";
  {
    FileDescriptor fd(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    write_all(fd.get(), contents, tmp);
    if (::fsync(fd.get()) != 0) throw std::runtime_error("cannot fsync " + tmp.string() + ": " + std::strerror(errno));
  }
  std::filesystem::rename(tmp, path);
  auto dir = path.parent_path();
  fsync_path(dir.empty() ? std::filesystem::path(".") : dir);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open file (" + std::strerror(errno) + ")");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path.string() + ": read error");
  return buffer.str();
}

}  // namespace rlhf
