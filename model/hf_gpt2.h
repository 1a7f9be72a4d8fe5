// Interoperability with Hugging Face GPT-2 directories (config.json + model.safetensors, optional
// vocab.json + merges.txt). HF's Conv1D layers store weights as (in, out): we transpose them.
#pragma once

#include <filesystem>

#include "model/checkpoint.h"

namespace rlhf {

// True when DIR/config.json says model_type "gpt2" and DIR/model.safetensors exists.
bool is_hf_gpt2_dir(const std::filesystem::path& dir);

// Reads an HF GPT-2 directory into a native Checkpoint (F32/F16/BF16 weights become F32).
Checkpoint import_hf_gpt2(const std::filesystem::path& dir);

// Writes config.json + model.safetensors (+ vocab.json/merges.txt when there is a tokenizer)
// that transformers' GPT2LMHeadModel.from_pretrained reads.
void export_hf_gpt2(const Checkpoint& checkpoint, const std::filesystem::path& dir);

}  // namespace rlhf
