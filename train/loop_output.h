// What a resumable loop keeps and writes, shared by the training loop (train/trainer.cpp) and PPO's
// (ppo/ppo_stage.cpp): metrics.jsonl and the progress line, written by rank 0 only, and the loop's
// counters carried in a checkpoint's trainer_state.json.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "model/checkpoint.h"
#include "train/metrics.h"

namespace rlhf {

class LoopOutput {
 public:
  // On rank 0 (`writes`) opens OUT/metrics.jsonl (on resume keeping the lines up to keep_up_to_step,
  // which belong to the run being continued) and the progress line over total_steps; elsewhere every
  // call does nothing.
  LoopOutput(bool writes, const std::filesystem::path& out_dir, const std::string& stage, int64_t total_steps,
             bool resume, int64_t keep_up_to_step, const std::string& value_name = "loss");
  void log(const nlohmann::json& line);
  void progress(int64_t step, double value, double tokens_per_s, const nlohmann::json& extra = {});
  void message(const std::string& text);
  void finish();

 private:
  std::optional<MetricsLog> metrics_;
  std::optional<ProgressLine> progress_;
};

// A checkpoint's trainer_state.json as the loop's State (parse reads it); a missing or mistyped
// counter is an error naming the checkpoint.
template <class State, class Parse>
State read_loop_state(const nlohmann::json& trainer_state, const std::filesystem::path& where, Parse parse) {
  try {
    return parse(trainer_state);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(where.string() + ": trainer_state.json is not resumable: " + e.what());
  }
}

// Saves the checkpoint to DIR with the loop's counters as its trainer_state.json, and the optimizer
// state when given (OUT/last; OUT/best is weights only).
void save_loop_checkpoint(const std::filesystem::path& dir, Checkpoint checkpoint, const nlohmann::json& loop_state,
                          const torch::optim::Optimizer* optimizer);

}  // namespace rlhf
