// Opening a model for use: a native checkpoint or an HF GPT-2 directory, detected automatically.
#pragma once

#include <filesystem>

#include "model/checkpoint.h"
#include "model/gpt.h"

namespace rlhf {

// Native checkpoint or HF GPT-2 directory (detected from config.json); errors say which was expected.
Checkpoint load_any_checkpoint(const std::filesystem::path& dir);

// The checkpoint a stage starts from (`init_from`); it must carry a tokenizer.
Checkpoint load_init_checkpoint(const std::string& init_from);

// A GPT built from the checkpoint's config with its backbone weights ("transformer.*"), on `device`,
// in eval mode.
GPT build_gpt(const Checkpoint& checkpoint, torch::Device device, const std::string& source);

// The checkpoint's weights for a freshly trained or modified model (backbone and any extra heads).
Checkpoint make_checkpoint(const GPT& model, const std::optional<Tokenizer>& tokenizer,
                           nlohmann::json info = nlohmann::json::object());
// The same for a module that wraps a backbone of `config` (reward model, policy + value): every
// tensor of `module` by name; info.kind must be set by the caller.
Checkpoint make_checkpoint(const torch::nn::Module& module, const GPTConfig& config,
                           const std::optional<Tokenizer>& tokenizer, nlohmann::json info);

// The checkpoint as it is handed to users: floating-point weights stored as `dtype` (fp16 or bf16
// halve the file; loading casts them back to fp32), no optimizer or trainer state, so it is a model
// to start from, not a run to resume.
Checkpoint release_checkpoint(Checkpoint checkpoint, torch::Dtype dtype);

}  // namespace rlhf
