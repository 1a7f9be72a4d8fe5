// A tokenized corpus on disk: a 32-byte header ("RLHFTOK1", bytes per token, token count, source
// hash) followed by uint16 or uint32 ids, memory-mapped read-only. Built once, atomically; reused
// while the source files and tokenizer hash the same.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace rlhf {

class TokenFile {
 public:
  static void write(const std::filesystem::path& path, const std::vector<TokenId>& tokens, int64_t vocab_size,
                    uint64_t source_hash);
  explicit TokenFile(const std::filesystem::path& path);  // maps the file; throws if malformed
  ~TokenFile();
  TokenFile(TokenFile&& other) noexcept;
  TokenFile& operator=(TokenFile&&) = delete;
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  int64_t size() const { return count_; }
  uint64_t source_hash() const { return source_hash_; }
  TokenId at(int64_t i) const;
  torch::Tensor slice(int64_t start, int64_t length) const;  // (length) int64 ids

 private:
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const unsigned char* tokens_ = nullptr;
  uint32_t bytes_per_token_ = 2;
  int64_t count_ = 0;
  uint64_t source_hash_ = 0;
};

}  // namespace rlhf
