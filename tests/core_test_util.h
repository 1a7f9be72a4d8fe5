// Helpers shared by the core tests: paths to shipped test data and small seeded models.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "core/gpt.h"

namespace rlhf::test {

inline std::filesystem::path test_data(const std::string& name) { return std::filesystem::path(RLHF_TEST_DATA_DIR) / name; }
inline std::filesystem::path project_file(const std::string& name) { return std::filesystem::path(RLHF_PROJECT_DIR) / name; }

// A fresh temporary directory, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    auto base = std::filesystem::temp_directory_path() / "rlhf-test-XXXXXX";
    std::string pattern = base.string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path_, ec); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline GPTConfig tiny_config() {
  GPTConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.block_size = 32;
  c.vocab_size = 50;
  return c;
}

inline GPT tiny_model(uint64_t seed = 0, GPTConfig config = tiny_config()) {
  torch::manual_seed(seed);
  GPT model(config);
  model->eval();
  return model;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

}  // namespace rlhf::test
