// The safetensors format (HF): 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data.
// Every offset and size is validated: a malformed file is a clear error, never a crash.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace rlhf::safetensors {

using TensorMap = std::map<std::string, torch::Tensor>;
using Metadata = std::map<std::string, std::string>;

struct File {
  TensorMap tensors;  // CPU tensors in the file's dtype
  Metadata metadata;
};

File load(const std::filesystem::path& path);
// `source` names the bytes in error messages (usually the file path).
File parse(std::string_view bytes, const std::string& source);

// Tensors are written contiguous, on CPU, in their own dtype, sorted by name; written atomically.
void save(const std::filesystem::path& path, const TensorMap& tensors, const Metadata& metadata = {});
std::string serialize(const TensorMap& tensors, const Metadata& metadata = {});

}  // namespace rlhf::safetensors
