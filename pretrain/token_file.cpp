#include "pretrain/token_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "io/atomic_file.h"

namespace rlhf {

namespace {

constexpr char kMagic[8] = {'R', 'L', 'H', 'F', 'T', 'O', 'K', '1'};
constexpr size_t kHeaderBytes = 32;

template <class T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

}  // namespace

void TokenFile::write(const std::filesystem::path& path, const std::vector<TokenId>& tokens, int64_t vocab_size,
                      uint64_t source_hash) {
  const uint32_t width = vocab_size <= 65536 ? 2 : 4;
  std::string out(kMagic, sizeof kMagic);
  put<uint32_t>(out, width);
  put<uint32_t>(out, 0);
  put<uint64_t>(out, tokens.size());
  put<uint64_t>(out, source_hash);
  out.reserve(kHeaderBytes + tokens.size() * width);
  for (TokenId id : tokens) {
    if (width == 2) put<uint16_t>(out, static_cast<uint16_t>(id));
    else put<uint32_t>(out, static_cast<uint32_t>(id));
  }
  write_file_atomic(path, out);
}

TokenFile::TokenFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open token file " + path.string());
  struct stat st {};
  ::fstat(fd, &st);
  map_bytes_ = static_cast<size_t>(st.st_size);
  if (map_bytes_ < kHeaderBytes) {
    ::close(fd);
    throw std::runtime_error(path.string() + ": not a token file (too short)");
  }
  map_ = ::mmap(nullptr, map_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw std::runtime_error("cannot map token file " + path.string());
  }
  const auto* bytes = static_cast<const unsigned char*>(map_);
  uint64_t count = 0;
  std::memcpy(&bytes_per_token_, bytes + 8, 4);
  std::memcpy(&count, bytes + 16, 8);
  std::memcpy(&source_hash_, bytes + 24, 8);
  if (std::memcmp(bytes, kMagic, sizeof kMagic) != 0 || (bytes_per_token_ != 2 && bytes_per_token_ != 4) ||
      kHeaderBytes + count * bytes_per_token_ != map_bytes_) {
    ::munmap(map_, map_bytes_);
    map_ = nullptr;
    throw std::runtime_error(path.string() + ": malformed or truncated token file (delete it to rebuild)");
  }
  count_ = static_cast<int64_t>(count);
  tokens_ = bytes + kHeaderBytes;
}

TokenFile::~TokenFile() {
  if (map_) ::munmap(map_, map_bytes_);
}

TokenFile::TokenFile(TokenFile&& other) noexcept
    : map_(other.map_), map_bytes_(other.map_bytes_), tokens_(other.tokens_), bytes_per_token_(other.bytes_per_token_),
      count_(other.count_), source_hash_(other.source_hash_) {
  other.map_ = nullptr;
}

TokenId TokenFile::at(int64_t i) const {
  if (bytes_per_token_ == 2) {
    uint16_t v;
    std::memcpy(&v, tokens_ + i * 2, 2);
    return v;
  }
  uint32_t v;
  std::memcpy(&v, tokens_ + i * 4, 4);
  return v;
}

torch::Tensor TokenFile::slice(int64_t start, int64_t length) const {
  TORCH_CHECK(start >= 0 && start + length <= count_, "token slice out of range");
  auto out = torch::empty({length}, torch::kLong);
  auto* dst = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < length; ++i) dst[i] = at(start + i);
  return out;
}

}  // namespace rlhf
