// Shared by the tests of the stages after pretraining: a tiny tokenizer and model checkpoint built from shipped data.
#pragma once

#include <filesystem>
#include <fstream>

#include "model/model_io.h"
#include "pretrain/pretrain.h"
#include "text/bpe_trainer.h"
#include "model_test_util.h"

namespace rlhf::test {

inline const Tokenizer& constitution_tokenizer() {
  static const Tokenizer tokenizer = train_bpe({project_file("data/corpus/us_constitution.txt")}, {400, 2});
  return tokenizer;
}

// A seeded tiny GPT with the constitution tokenizer saved as a native checkpoint in DIR.
inline void write_tiny_checkpoint(const std::filesystem::path& dir, int64_t block_size = 96) {
  GPTConfig config = tiny_config();
  config.vocab_size = constitution_tokenizer().vocab_size();
  config.block_size = block_size;
  config.n_embd = 32;
  torch::manual_seed(0);
  GPT model(config);
  save_checkpoint(dir, make_checkpoint(model, constitution_tokenizer()));
}

// A 0.13M-parameter GPT pretrained briefly on one shipped novel: a real but small backbone for
// learning tests of the later stages.
inline PretrainConfig small_pretrain_config(const std::filesystem::path& dir, int64_t block_size, int64_t steps) {
  PretrainConfig c;
  c.model.n_layer = 2, c.model.n_head = 4, c.model.n_embd = 64, c.model.block_size = block_size;
  c.tokenizer.train_vocab_size = 512;
  c.tokenizer.train_files = {project_file("data/corpus/austen/persuasion.txt").string()};
  c.data.files = c.tokenizer.train_files;
  c.data.cache_dir = (dir / "cache").string();
  c.train.max_steps = steps;
  c.train.batch_size = 16;
  c.train.lr = 3e-3;
  c.train.min_lr = 3e-4;
  c.train.warmup_steps = steps / 10;
  c.out_dir = (dir / "pretrain").string();
  c.runtime.device = "cpu";
  return c;
}

// The "loss" of every line of a stage's metrics.jsonl, in order (evaluation lines have none).
inline std::vector<double> logged_losses(const std::filesystem::path& metrics_file) {
  std::vector<double> result;
  std::ifstream in(metrics_file);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) result.push_back(j["loss"].get<double>());
  }
  return result;
}

}  // namespace rlhf::test
