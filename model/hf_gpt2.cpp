#include "model/hf_gpt2.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "io/atomic_file.h"
#include "io/files.h"
#include "text/strings.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool is_conv1d_weight(const std::string& name) {
  for (const char* suffix : {"attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"})
    if (ends_with(name, suffix)) return true;
  return false;
}

template <class T>
T get_field(const json& config, const char* key, const fs::path& path) {
  if (!config.contains(key)) throw std::runtime_error(path.string() + ": missing field \"" + key + "\"");
  try {
    return config.at(key).get<T>();
  } catch (const json::exception& e) {
    throw std::runtime_error(path.string() + ": field \"" + key + "\": " + e.what());
  }
}

GPTConfig read_config(const fs::path& path) {
  const json config = read_json_file(path);
  if (config.value("model_type", "") != "gpt2")
    throw std::runtime_error(path.string() + ": model_type is not \"gpt2\"");
  auto activation = config.value("activation_function", "gelu_new");
  if (activation != "gelu_new" && activation != "gelu_pytorch_tanh")
    throw std::runtime_error(path.string() + ": activation_function \"" + activation +
                             "\" is not supported (GPT-2 uses gelu_new, the tanh approximation)");
  if (config.value("scale_attn_by_inverse_layer_idx", false) || !config.value("scale_attn_weights", true) ||
      !config.value("tie_word_embeddings", true))
    throw std::runtime_error(path.string() + ": attention scaling or untied embeddings differ from GPT-2");

  GPTConfig c;
  c.n_layer = get_field<int64_t>(config, "n_layer", path);
  c.n_head = get_field<int64_t>(config, "n_head", path);
  c.n_embd = get_field<int64_t>(config, "n_embd", path);
  c.block_size = config.contains("n_positions") ? get_field<int64_t>(config, "n_positions", path)
                                                : get_field<int64_t>(config, "n_ctx", path);
  c.vocab_size = get_field<int64_t>(config, "vocab_size", path);
  c.layer_norm_epsilon = config.value("layer_norm_epsilon", 1e-5);
  c.dropout = config.value("resid_pdrop", 0.1);
  if (config.contains("n_inner") && !config["n_inner"].is_null() && config["n_inner"].get<int64_t>() != 4 * c.n_embd)
    throw std::runtime_error(path.string() + ": n_inner must be 4 * n_embd (or null)");
  c.validate();
  return c;
}

// The HF Tokenizer files are the GPT-2 ones under other names.
std::optional<Tokenizer> read_tokenizer(const fs::path& dir) {
  if (fs::exists(dir / "encoder.json") && fs::exists(dir / "vocab.bpe")) return Tokenizer::load(dir);
  if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt"))
    return Tokenizer::load_files(dir / "vocab.json", dir / "merges.txt");
  return std::nullopt;
}

}  // namespace

bool is_hf_gpt2_dir(const fs::path& dir) {
  if (!fs::exists(dir / "config.json") || !fs::exists(dir / "model.safetensors")) return false;
  try {
    return json::parse(read_file(dir / "config.json")).value("model_type", "") == "gpt2";
  } catch (const json::exception&) {
    return false;
  }
}

Checkpoint import_hf_gpt2(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw std::runtime_error(dir.string() + ": no such directory");
  Checkpoint checkpoint;
  checkpoint.model = read_config(dir / "config.json");
  auto file = safetensors::load(dir / "model.safetensors");
  for (auto& [hf_name, tensor] : file.tensors) {
    // Skip the tied LM head and the causal-mask buffers some exports carry.
    if (hf_name == "lm_head.weight" || ends_with(hf_name, ".attn.bias") || ends_with(hf_name, ".attn.masked_bias"))
      continue;
    std::string name = hf_name.rfind("transformer.", 0) == 0 ? hf_name : "transformer." + hf_name;
    auto t = tensor.to(torch::kFloat32);
    if (is_conv1d_weight(name)) {
      if (t.dim() != 2) throw std::runtime_error((dir / "model.safetensors").string() + ": tensor \"" + hf_name + "\" must be 2-D");
      t = t.t().contiguous();  // HF Conv1D (in, out) -> Linear (out, in)
    }
    checkpoint.weights[name] = t;
  }
  checkpoint.tokenizer = read_tokenizer(dir);
  checkpoint.info = {{"kind", "gpt"}, {"imported_from", fs::absolute(dir).string()}};
  return checkpoint;
}

void export_hf_gpt2(const Checkpoint& checkpoint, const fs::path& dir) {
  const auto& c = checkpoint.model;
  if (!c.bias) throw std::runtime_error("export-hf: GPT-2 has biases; a model trained with bias=false cannot be exported");
  fs::create_directories(dir);
  safetensors::TensorMap tensors;
  for (const auto& [name, tensor] : checkpoint.weights) {
    if (name.rfind("transformer.", 0) != 0) continue;  // heads (reward, value) are not part of GPT-2
    tensors[name] = is_conv1d_weight(name) ? tensor.t().contiguous() : tensor;
  }
  int64_t eos = checkpoint.tokenizer ? checkpoint.tokenizer->eot_id() : c.vocab_size - 1;
  json config = {{"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"},
                 {"activation_function", "gelu_new"},  {"n_layer", c.n_layer},
                 {"n_head", c.n_head},                  {"n_embd", c.n_embd},
                 {"n_positions", c.block_size},         {"n_ctx", c.block_size},
                 {"vocab_size", c.vocab_size},          {"layer_norm_epsilon", c.layer_norm_epsilon},
                 {"resid_pdrop", c.dropout},            {"embd_pdrop", c.dropout},
                 {"attn_pdrop", c.dropout},             {"n_inner", nullptr},
                 {"scale_attn_weights", true},          {"tie_word_embeddings", true},
                 {"bos_token_id", eos},                 {"eos_token_id", eos},
                 {"initializer_range", 0.02},           {"torch_dtype", "float32"}};
  safetensors::save(dir / "model.safetensors", tensors, {{"format", "pt"}});
  if (checkpoint.tokenizer) checkpoint.tokenizer->save_files(dir / "vocab.json", dir / "merges.txt");
  write_file_atomic(dir / "config.json", config.dump(2));
}

}  // namespace rlhf
