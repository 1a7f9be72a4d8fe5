// Helpers for every test, LibTorch-free: paths to shipped data, a temporary directory, small files.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace rlhf::test {

inline std::filesystem::path test_data(const std::string& name) { return std::filesystem::path(RLHF_TEST_DATA_DIR) / name; }
inline std::filesystem::path project_file(const std::string& name) { return std::filesystem::path(RLHF_PROJECT_DIR) / name; }

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A fresh temporary directory, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rlhf-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path_, ec); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Writes DIR/name and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    write_text(path_ / name, content);
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace rlhf::test
