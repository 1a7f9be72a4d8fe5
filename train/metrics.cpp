#include "train/metrics.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "io/atomic_file.h"

namespace rlhf {

MetricsLog::MetricsLog(const std::filesystem::path& path, int64_t keep_up_to_step) : path_(path) {
  if (keep_up_to_step >= 0 && std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string kept, line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("step", int64_t(0)) <= keep_up_to_step) kept += line + "\n";
    }
    write_file_atomic(path, kept);
  }
  file_ = std::fopen(path.c_str(), keep_up_to_step >= 0 ? "a" : "w");
  if (!file_) throw std::runtime_error("cannot write " + path.string());
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::write(const nlohmann::json& line) {
  std::string text = line.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
}

std::string format_duration(double seconds) {
  long s = static_cast<long>(seconds + 0.5);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h" << (s % 3600) / 60 << "m";
  else if (s >= 60) out << s / 60 << "m" << s % 60 << "s";
  else out << s << "s";
  return out.str();
}

ProgressLine::ProgressLine(std::string stage, int64_t total_steps, std::string value_name)
    : stage_(std::move(stage)), total_steps_(total_steps), value_name_(std::move(value_name)), tty_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {}

void ProgressLine::update(int64_t step, double value, double tokens_per_s, const nlohmann::json& extra) {
  if (first_step_ < 0) first_step_ = step;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double done = static_cast<double>(step + 1 - first_step_);
  double eta = done > 0 ? elapsed / done * static_cast<double>(total_steps_ - step - 1) : 0.0;
  char head[160];
  std::snprintf(head, sizeof head, "%s step %lld/%lld %s %.4f %.0f tok/s ETA %s", stage_.c_str(),
                static_cast<long long>(step + 1), static_cast<long long>(total_steps_), value_name_.c_str(), value,
                tokens_per_s,
                format_duration(eta).c_str());
  std::string text = head;
  for (const auto& [key, value] : extra.items()) {
    std::ostringstream v;
    if (value.is_number_float()) v.precision(4);
    if (value.is_number_float()) v << value.get<double>(); else v << value.dump();
    text += " " + key + " " + v.str();
  }
  if (tty_) std::fprintf(stderr, "\r\033[K%s", text.c_str());
  else std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void ProgressLine::message(const std::string& text) {
  std::fprintf(stderr, tty_ ? "\r\033[K%s\n" : "%s\n", text.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace rlhf
