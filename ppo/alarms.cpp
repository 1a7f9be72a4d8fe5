#include "ppo/alarms.h"

#include <cmath>
#include <cstdio>

namespace rlhf {

using nlohmann::json;

namespace {

std::string format(const char* spec, double a, double b = 0.0, double c = 0.0, double d = 0.0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, spec, a, b, c, d);
  return buf;
}

double number(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

}  // namespace

HackingAlarms::HackingAlarms(const json& sft_held_out, const json& state) : sft_(sft_held_out) {
  const double judge = number(sft_held_out, "judge_score");
  if (std::isfinite(judge)) best_judge_ = judge;
  if (state.is_object()) {
    first_entropy_ = state.value("first_entropy", -1.0);
    best_judge_ = state.value("best_judge", best_judge_);
    best_judge_iteration_ = state.value("best_judge_iteration", int64_t{0});
    raised_ = state.value("raised", std::vector<std::string>{});
  }
}

json HackingAlarms::state() const {
  return {{"first_entropy", first_entropy_},
          {"best_judge", best_judge_},
          {"best_judge_iteration", best_judge_iteration_},
          {"raised", raised_}};
}

std::vector<std::string> HackingAlarms::check(int64_t iteration, const json& held_out, double entropy) {
  std::vector<std::string> warnings;
  const std::string at = "iteration " + std::to_string(iteration) + ": ";

  const double length = number(held_out, "response_length"), sft_length = number(sft_, "response_length");
  if (sft_length > 0 && std::isfinite(length)) {
    const double ratio = length / sft_length;
    if (ratio < kMinLengthRatio || ratio > kMaxLengthRatio)
      warnings.push_back(at + format("mean response length %.1f tokens is %.2fx the SFT policy's %.1f (outside [%.1fx, ", length,
                                     ratio, sft_length, kMinLengthRatio) +
                         format("%.0fx])", kMaxLengthRatio));
  }

  if (first_entropy_ < 0 && std::isfinite(entropy)) first_entropy_ = entropy;
  if (first_entropy_ > 0 && std::isfinite(entropy) && entropy < kMinEntropyRatio * first_entropy_)
    warnings.push_back(at + format("entropy collapsed to %.3f nats per token, %.2fx its first value %.3f", entropy,
                                   entropy / first_entropy_, first_entropy_));

  const double judge = number(held_out, "judge_score"), proxy = number(held_out, "score");
  if (std::isfinite(judge)) {
    const double n = number(held_out, "prompts"), spread = number(held_out, "judge_score_std");
    const double standard_error = n > 0 && std::isfinite(spread) ? spread / std::sqrt(n) : 0.0;
    if (proxy > number(sft_, "score") && judge < best_judge_ - kJudgeDropStandardErrors * standard_error)
      warnings.push_back(at + format("the proxy score rose to %.3f (SFT %.3f) while the judge's fell to %.3f, below its best %.3f",
                                     proxy, number(sft_, "score"), judge, best_judge_) +
                         " (iteration " + std::to_string(best_judge_iteration_) + ")");
    if (judge > best_judge_) {
      best_judge_ = judge;
      best_judge_iteration_ = iteration;
    }
  }
  raised_.insert(raised_.end(), warnings.begin(), warnings.end());
  return warnings;
}

}  // namespace rlhf
