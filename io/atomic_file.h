// Files that matter are written atomically: write NAME.tmp, fsync it, rename over NAME, fsync the
// directory. A crash at any point leaves either the old file or the new one, never a torn one.
#pragma once

#include <filesystem>
#include <string_view>

namespace rlhf {

void write_file_atomic(const std::filesystem::path& path, std::string_view contents);
// fsync an existing file or directory (so a rename or a write survives power loss).
void fsync_path(const std::filesystem::path& path);
std::string read_file(const std::filesystem::path& path);

}  // namespace rlhf
