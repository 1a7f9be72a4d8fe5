#include "model/checkpoint.h"

#include <fstream>
#include <stdexcept>

#include "io/atomic_file.h"
#include "io/files.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path sibling(const fs::path& dir, const std::string& suffix) {
  auto p = dir;
  p += suffix;
  return p;
}

// If a crash hit between "move old aside" and "move new in", DIR is missing and DIR.old holds the
// previous complete checkpoint: use it.
fs::path resolve_dir(const fs::path& dir) {
  if (!fs::exists(dir) && fs::exists(sibling(dir, ".old") / "config.json")) return sibling(dir, ".old");
  return dir;
}

void write_directory(const fs::path& tmp, const Checkpoint& checkpoint, const torch::optim::Optimizer* optimizer) {
  json config = {{"format", kCheckpointFormat},
                 {"format_version", kCheckpointFormatVersion},
                 {"model", checkpoint.model},
                 {"tokenizer", checkpoint.tokenizer ? json("tokenizer") : json(nullptr)},
                 {"info", checkpoint.info}};
  safetensors::save(tmp / "model.safetensors", checkpoint.weights, {{"format", kCheckpointFormat}});
  if (checkpoint.tokenizer) checkpoint.tokenizer->save(tmp / "tokenizer");
  if (optimizer) {
    torch::serialize::OutputArchive archive;
    optimizer->save(archive);
    archive.save_to((tmp / "optimizer.pt").string());
    fsync_path(tmp / "optimizer.pt");
  }
  if (!checkpoint.trainer_state.is_null())
    write_file_atomic(tmp / "trainer_state.json", checkpoint.trainer_state.dump(2));
  // config.json last: its presence marks a complete directory.
  write_file_atomic(tmp / "config.json", config.dump(2));
}

}  // namespace

void save_checkpoint(const fs::path& dir, const Checkpoint& checkpoint, const torch::optim::Optimizer* optimizer) {
  const fs::path tmp = sibling(dir, ".tmp"), old = sibling(dir, ".old");
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write_directory(tmp, checkpoint, optimizer);
  fsync_path(tmp);
  fs::remove_all(old);
  if (fs::exists(dir)) fs::rename(dir, old);
  fs::rename(tmp, dir);
  fsync_path(dir.has_parent_path() ? dir.parent_path() : fs::path("."));
  fs::remove_all(old);
}

bool is_native_checkpoint(const fs::path& dir) {
  auto config_path = resolve_dir(dir) / "config.json";
  if (!fs::exists(config_path)) return false;
  try {
    auto config = json::parse(read_file(config_path));
    return config.is_object() && config.value("format", "") == kCheckpointFormat;
  } catch (const json::exception&) {
    return false;
  }
}

Checkpoint load_checkpoint(const fs::path& requested_dir) {
  const fs::path dir = resolve_dir(requested_dir);
  if (!fs::is_directory(dir)) throw std::runtime_error("checkpoint " + dir.string() + ": no such directory");
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path))
    throw std::runtime_error("checkpoint " + dir.string() + ": config.json is missing (incomplete or not a checkpoint)");
  json config = read_json_file(config_path);
  if (!config.is_object() || config.value("format", "") != kCheckpointFormat)
    throw std::runtime_error(config_path.string() + ": not an rlhf checkpoint (no \"format\": \"" + kCheckpointFormat +
                             "\"); for a Hugging Face GPT-2 directory use `rlhf import-hf`");
  int version = config.value("format_version", -1);
  if (version != kCheckpointFormatVersion)
    throw std::runtime_error(config_path.string() + ": checkpoint format_version " + std::to_string(version) +
                             ", this rlhf reads version " + std::to_string(kCheckpointFormatVersion));

  Checkpoint checkpoint;
  try {
    checkpoint.model = config.at("model").get<GPTConfig>();
  } catch (const json::exception& e) {
    throw std::runtime_error(config_path.string() + ": field \"model\": " + e.what());
  }
  checkpoint.model.validate();
  checkpoint.info = config.value("info", json::object());
  checkpoint.weights = safetensors::load(dir / "model.safetensors").tensors;
  if (config.contains("tokenizer") && config["tokenizer"].is_string())
    checkpoint.tokenizer = Tokenizer::load(dir / config["tokenizer"].get<std::string>());
  if (fs::exists(dir / "trainer_state.json")) checkpoint.trainer_state = read_json_file(dir / "trainer_state.json");
  return checkpoint;
}

bool has_optimizer_state(const fs::path& dir) { return fs::exists(resolve_dir(dir) / "optimizer.pt"); }

void load_optimizer_state(const fs::path& dir, torch::optim::Optimizer& optimizer) {
  const auto path = resolve_dir(dir) / "optimizer.pt";
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    optimizer.load(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path.string() + ": cannot load optimizer state: " + e.what_without_backtrace());
  }
}

}  // namespace rlhf
