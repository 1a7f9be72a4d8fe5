// report: eval.json + the stages' metrics.jsonl -> one self-contained HTML file (eval/report.h).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "eval/report.h"

namespace rlhf::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_eval_json(const std::string& file) {
  if (!fs::is_regular_file(file)) throw std::runtime_error(file + ": no such file");
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  auto eval = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (eval.is_discarded()) throw std::runtime_error(file + ": not valid JSON");
  if (!eval.is_object()) throw std::runtime_error(file + ": expected a JSON object (the output of rlhf eval)");
  return eval;
}

// Every subdirectory of a run with a metrics.jsonl, in pipeline order, then the others by name.
std::vector<StageMetrics> stages_of_run(const std::string& run) {
  if (!fs::is_directory(run)) throw std::runtime_error(run + ": no such directory");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(run))
    if (entry.is_directory() && fs::exists(entry.path() / "metrics.jsonl")) names.push_back(entry.path().filename().string());
  if (names.empty()) throw std::runtime_error(run + ": no subdirectory with a metrics.jsonl");
  const std::vector<std::string> pipeline = {"pretrain", "sft", "reward", "ppo"};
  auto rank = [&](const std::string& n) { return std::find(pipeline.begin(), pipeline.end(), n) - pipeline.begin(); };
  std::sort(names.begin(), names.end(), [&](const auto& a, const auto& b) { return std::make_pair(rank(a), a) < std::make_pair(rank(b), b); });
  std::vector<StageMetrics> stages;
  for (const auto& n : names) stages.push_back(read_stage_metrics(n, fs::path(run) / n));
  return stages;
}

// --stage NAME=DIR; a DIR without metrics.jsonl is an empty stage, a missing DIR a typo.
StageMetrics stage_of_flag(const std::string& flag) {
  const auto eq = flag.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size())
    throw std::runtime_error("--stage expects NAME=DIR, got '" + flag + "'");
  const std::string name = flag.substr(0, eq), dir = flag.substr(eq + 1);
  if (!fs::is_directory(dir)) throw std::runtime_error(dir + ": no such directory (--stage " + name + ")");
  return read_stage_metrics(name, dir);
}

}  // namespace

void register_report_commands(CLI::App& app) {
  struct Options {
    std::string eval, out;
    std::vector<std::string> runs, stages;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("report", "Write the evaluation report: one self-contained HTML file");
  cmd->add_option("--eval", opts->eval, "eval.json written by rlhf eval")->required();
  cmd->add_option("--run", opts->runs, "Run directory: every subdirectory with a metrics.jsonl is a stage (repeatable)");
  cmd->add_option("--stage", opts->stages, "NAME=DIR: one stage's metrics, e.g. pretrain=runs/quickstart/pretrain (repeatable)");
  cmd->add_option("--out", opts->out, "Output HTML file")->required();
  cmd->callback([opts] {
    const json eval = read_eval_json(opts->eval);
    std::vector<StageMetrics> stages;
    for (const auto& run : opts->runs)
      for (auto& s : stages_of_run(run)) stages.push_back(std::move(s));
    for (const auto& flag : opts->stages) stages.push_back(stage_of_flag(flag));
    write_report(opts->out, eval, stages);
    std::cerr << "report: wrote " << opts->out << " (" << stages.size() << " stages)\n";
  });
}

}  // namespace rlhf::app
