#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <stdexcept>

#include "io/atomic_file.h"

namespace rlhf::safetensors {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100 * 1000 * 1000;  // the reference implementation's limit

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  size_t bytes;
};

constexpr DtypeInfo kDtypes[] = {
    {"F64", torch::kFloat64, 8}, {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8}, {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},   {"I8", torch::kInt8, 1},       {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo& dtype_by_name(const std::string& name, const std::string& where) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d;
  throw std::runtime_error(where + ": unsupported dtype \"" + name + "\"");
}

const DtypeInfo& dtype_by_type(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return d;
  throw std::runtime_error(std::string("safetensors: cannot store dtype ") + c10::toString(type));
}

uint64_t read_le64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

torch::Tensor read_tensor(const json& entry, std::string_view data, const std::string& where) {
  if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
    throw std::runtime_error(where + ": entry needs dtype, shape and data_offsets");
  const auto& dtype = dtype_by_name(entry.at("dtype").get<std::string>(), where);
  std::vector<int64_t> shape;
  uint64_t numel = 1;
  for (const auto& d : entry.at("shape")) {
    if (!d.is_number_unsigned()) throw std::runtime_error(where + ": shape must hold non-negative integers");
    uint64_t n = d.get<uint64_t>();
    if (n != 0 && numel > (uint64_t(1) << 62) / n) throw std::runtime_error(where + ": shape too large");
    numel *= n;
    shape.push_back(static_cast<int64_t>(n));
  }
  const auto& offsets = entry.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
    throw std::runtime_error(where + ": data_offsets must be [begin, end]");
  uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end || end > data.size())
    throw std::runtime_error(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                             "] outside the " + std::to_string(data.size()) + "-byte data section (truncated file?)");
  if (end - begin != numel * dtype.bytes)
    throw std::runtime_error(where + ": " + std::to_string(end - begin) + " bytes do not match shape and dtype (" +
                             std::to_string(numel * dtype.bytes) + " expected)");
  auto tensor = torch::empty(shape, torch::TensorOptions().dtype(dtype.type));
  if (numel > 0) std::memcpy(tensor.data_ptr(), data.data() + begin, end - begin);  // little-endian host
  return tensor;
}

}  // namespace

File parse(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 8) throw std::runtime_error(source + ": not a safetensors file (shorter than 8 bytes)");
  uint64_t header_size = read_le64(bytes.data());
  if (header_size > kMaxHeaderBytes || header_size > bytes.size() - 8)
    throw std::runtime_error(source + ": header length " + std::to_string(header_size) +
                             " exceeds the file size (truncated or not a safetensors file)");
  json header;
  try {
    header = json::parse(bytes.substr(8, header_size));
  } catch (const json::exception& e) {
    throw std::runtime_error(source + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) throw std::runtime_error(source + ": header must be a JSON object");
  std::string_view data = bytes.substr(8 + header_size);

  File file;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw std::runtime_error(source + ": __metadata__ must be an object");
      for (const auto& [key, value] : entry.items())
        if (value.is_string()) file.metadata[key] = value.get<std::string>();
      continue;
    }
    try {
      file.tensors[name] = read_tensor(entry, data, source + ": tensor \"" + name + "\"");
    } catch (const json::exception& e) {
      throw std::runtime_error(source + ": tensor \"" + name + "\": " + e.what());
    }
  }
  return file;
}

File load(const std::filesystem::path& path) { return parse(read_file(path), path.string()); }

std::string serialize(const TensorMap& tensors, const Metadata& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const auto& dtype = dtype_by_type(t.scalar_type());
    uint64_t size = static_cast<uint64_t>(t.numel()) * dtype.bytes;
    header[name] = {{"dtype", dtype.name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + size}}};
    offset += size;
    contiguous.push_back(t);
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  std::string out = le64(header_text.size()) + header_text;
  out.reserve(out.size() + offset);
  for (const auto& t : contiguous)
    out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

void save(const std::filesystem::path& path, const TensorMap& tensors, const Metadata& metadata) {
  write_file_atomic(path, serialize(tensors, metadata));
}

}  // namespace rlhf::safetensors
