#include "train/loop_output.h"

namespace rlhf {

LoopOutput::LoopOutput(bool writes, const std::filesystem::path& out_dir, const std::string& stage, int64_t total_steps,
                       bool resume, int64_t keep_up_to_step, const std::string& value_name) {
  if (!writes) return;
  metrics_.emplace(out_dir / "metrics.jsonl", resume ? keep_up_to_step : -1);
  progress_.emplace(stage, total_steps, value_name);
}

void LoopOutput::log(const nlohmann::json& line) {
  if (metrics_) metrics_->write(line);
}

void LoopOutput::progress(int64_t step, double value, double tokens_per_s, const nlohmann::json& extra) {
  if (progress_) progress_->update(step, value, tokens_per_s, extra);
}

void LoopOutput::message(const std::string& text) {
  if (progress_) progress_->message(text);
}

void LoopOutput::finish() {
  if (progress_) progress_->finish();
}

void save_loop_checkpoint(const std::filesystem::path& dir, Checkpoint checkpoint, const nlohmann::json& loop_state,
                          const torch::optim::Optimizer* optimizer) {
  checkpoint.trainer_state = loop_state;
  save_checkpoint(dir, checkpoint, optimizer);
}

}  // namespace rlhf
