// Native checkpoints: a directory written atomically (built as DIR.tmp, fsynced, renamed into place)
//   config.json         {"format": "rlhf-checkpoint", "format_version", "model": GPTConfig, "info": {...}}
//   model.safetensors   every tensor by its module name (GPT-2 names for the backbone)
//   tokenizer/          encoder.json + vocab.bpe, when the model has a tokenizer
//   optimizer.pt        optimizer state (resume only)
//   trainer_state.json  step, data position, RNG (resume only)
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "model/gpt_config.h"
#include "model/safetensors.h"
#include "text/tokenizer.h"

namespace rlhf {

inline constexpr const char* kCheckpointFormat = "rlhf-checkpoint";
inline constexpr int kCheckpointFormatVersion = 1;

struct Checkpoint {
  GPTConfig model;
  nlohmann::json info = nlohmann::json::object();  // stage-specific: kind, resolved config, heads, ...
  safetensors::TensorMap weights;                  // CPU tensors by name
  std::optional<Tokenizer> tokenizer;
  nlohmann::json trainer_state;                    // null when the checkpoint is not resumable
};

// Writes DIR atomically: a crash leaves either the previous checkpoint or the new one.
void save_checkpoint(const std::filesystem::path& dir, const Checkpoint& checkpoint,
                     const torch::optim::Optimizer* optimizer = nullptr);

// Reads config, weights, tokenizer and trainer state; throws a clear error for a missing,
// truncated, foreign or wrong-version checkpoint.
Checkpoint load_checkpoint(const std::filesystem::path& dir);

// True when DIR/config.json names the native format (cheap: reads only config.json).
bool is_native_checkpoint(const std::filesystem::path& dir);

bool has_optimizer_state(const std::filesystem::path& dir);
void load_optimizer_state(const std::filesystem::path& dir, torch::optim::Optimizer& optimizer);

}  // namespace rlhf
