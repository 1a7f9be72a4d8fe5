#include "model/model_io.h"

#include <stdexcept>

#include "model/hf_gpt2.h"
#include "model/state_dict.h"

namespace rlhf {

namespace fs = std::filesystem;

Checkpoint load_any_checkpoint(const fs::path& dir) {
  if (is_native_checkpoint(dir)) return load_checkpoint(dir);
  if (is_hf_gpt2_dir(dir)) return import_hf_gpt2(dir);
  if (!fs::is_directory(dir)) throw std::runtime_error("model " + dir.string() + ": no such directory");
  throw std::runtime_error("model " + dir.string() +
                           ": neither an rlhf checkpoint nor a Hugging Face GPT-2 directory "
                           "(expected config.json with \"format\": \"rlhf-checkpoint\" or \"model_type\": \"gpt2\")");
}

Checkpoint load_init_checkpoint(const std::string& init_from) {
  auto checkpoint = load_any_checkpoint(init_from);
  if (!checkpoint.tokenizer) throw std::runtime_error("init_from " + init_from + ": checkpoint has no tokenizer");
  return checkpoint;
}

GPT build_gpt(const Checkpoint& checkpoint, torch::Device device, const std::string& source) {
  GPT model(checkpoint.model);
  load_state_dict(*model, checkpoint.weights, source, /*prefix=*/"", /*strict=*/false);
  model->to(device);
  model->eval();
  return model;
}

Checkpoint make_checkpoint(const torch::nn::Module& module, const GPTConfig& config,
                           const std::optional<Tokenizer>& tokenizer, nlohmann::json info) {
  Checkpoint checkpoint;
  checkpoint.model = config;
  for (auto& [name, tensor] : state_dict(module)) checkpoint.weights[name] = tensor.to(torch::kCPU);
  checkpoint.tokenizer = tokenizer;
  checkpoint.info = std::move(info);
  return checkpoint;
}

Checkpoint make_checkpoint(const GPT& model, const std::optional<Tokenizer>& tokenizer, nlohmann::json info) {
  if (!info.contains("kind")) info["kind"] = "gpt";
  return make_checkpoint(*model, model->config(), tokenizer, std::move(info));
}

Checkpoint release_checkpoint(Checkpoint checkpoint, torch::Dtype dtype) {
  for (auto& [name, tensor] : checkpoint.weights)
    if (tensor.is_floating_point()) tensor = tensor.to(dtype);
  checkpoint.trainer_state = nullptr;
  checkpoint.info["released_dtype"] = std::string(c10::toString(dtype));
  return checkpoint;
}

}  // namespace rlhf
