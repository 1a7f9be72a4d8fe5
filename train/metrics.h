// What a training run reports: one JSON line per log step in metrics.jsonl, and a progress line
// (step, loss, tokens/s, ETA) that redraws itself on a terminal and is a plain log line otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace rlhf {

// One pairwise comparison as accuracies and win rates count it: 1 when a > b, 0.5 on a tie, else 0.
inline double pairwise_win(double a, double b) { return a > b ? 1.0 : a == b ? 0.5 : 0.0; }

// Appends JSON lines, flushed per line so a crash loses at most the line being written.
class MetricsLog {
 public:
  // On resume, lines with "step" > keep_up_to_step are dropped first (they belong to the lost run).
  MetricsLog(const std::filesystem::path& path, int64_t keep_up_to_step = -1);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void write(const nlohmann::json& line);

 private:
  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
};

class ProgressLine {
 public:
  // `value_name` labels the figure each update shows: "loss" for training, "score" for PPO.
  ProgressLine(std::string stage, int64_t total_steps, std::string value_name = "loss");
  // Redraws (TTY) or prints a line for 0-based `step`; `extra` is appended as "key value" pairs.
  void update(int64_t step, double value, double tokens_per_s, const nlohmann::json& extra = {});
  void message(const std::string& text);  // a full line that does not disturb the progress line
  void finish();

 private:
  std::string stage_;
  int64_t total_steps_;
  std::string value_name_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  int64_t first_step_ = -1;
};

std::string format_duration(double seconds);

}  // namespace rlhf
