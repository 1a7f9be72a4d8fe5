#include "pipelines/pipeline.h"

#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "eval/eval_stage.h"
#include "io/atomic_file.h"
#include "io/config.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "io/stable_hash.h"
#include "labeling/export.h"
#include "labeling/import.h"
#include "dpo/dpo_stage.h"
#include "model/checkpoint.h"
#include "pipelines/lineage.h"
#include "pipelines/rejection_sft.h"
#include "pipelines/scripted_labeler.h"
#include "ppo/ppo_stage.h"
#include "pretrain/pretrain.h"
#include "reward/reward_stage.h"
#include "sft/sft.h"
#include "storage/schema.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "text/demonstrations.h"
#include "text/tokenizer_source.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Thrown by the label stage when people have not ranked enough yet: the pipeline stops cleanly.
struct PipelinePaused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What one stage needs: its resolved config (the fingerprint's main input) and how to run it.
struct StagePlan {
  json resolved;
  std::function<std::string(bool resume)> run;  // returns the output hash downstream stages chain on
  fs::path out_dir;
  bool resumable = false;     // a training stage that continues from OUT/last
  bool always_run = false;    // human labels can arrive at any time
  std::string skip_reason;    // non-empty: the stage does not apply
};

bool under(const fs::path& path, const fs::path& dir) {
  auto p = fs::weakly_canonical(path).string(), d = fs::weakly_canonical(dir).string();
  return p.size() >= d.size() && p.compare(0, d.size(), d) == 0;
}

// Every existing file or directory the resolved config names outside the run directory, hashed by
// content (caches and output directories excluded: they are not inputs).
void collect_inputs(const json& j, const fs::path& run_dir, const std::string& key, std::vector<Artifact>& out) {
  if (key == "cache_dir" || key == "out_dir") return;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) collect_inputs(v, run_dir, k, out);
  } else if (j.is_array()) {
    for (const auto& v : j) collect_inputs(v, run_dir, key, out);
  } else if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s.empty() || s.size() > 4096 || s.find('\n') != std::string::npos) return;
    std::error_code ec;
    if (!fs::exists(s, ec) || under(s, run_dir)) return;
    // A bare word naming a folder of the working directory is a setting (algorithm "ppo", reference
    // "sft"), not an input: hashing the folder would rerun stages whenever it changed.
    if (s.find('/') == std::string::npos && !fs::is_regular_file(s, ec)) return;
    out.push_back({"input", s, hex64(hash_files(expand_files({s}, key)))});
  }
}

template <class Config>
Config stage_config(const StageFile& file) {
  return load_config<Config>(file.config, file.set);
}

std::string export_hash(const fs::path& db_path) {
  auto db = storage::open_database(db_path.string());
  std::ostringstream out;
  labeling::export_jsonl(db, labeling::ExportFormat::Rankings, out);
  return hex64(stable_hash(out.str()));
}

// HH lines of every split except the reward model's held-out one, into the labeling database.
int64_t import_hh(const std::vector<std::string>& files, const fs::path& db_path, const fs::path& work) {
  std::string kept;
  int64_t lines = 0;
  for (const auto& file : expand_files(files, "label.import_files")) {
    for (const auto& line : read_lines(file)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("chosen") || !j["chosen"].is_string())
        throw std::runtime_error(file.string() + ": label.import_files takes HH-RLHF {\"chosen\",\"rejected\"} lines");
      if (data_split_of(j["chosen"].get<std::string>()) == DataSplit::kRewardEval) continue;
      kept += line + "\n";
      ++lines;
    }
  }
  fs::create_directories(work);
  auto db = storage::open_database(db_path.string());
  std::istringstream input(kept);
  auto summary = labeling::import_jsonl(db, input, labeling::ImportFormat::Hh, "label.import_files");
  std::cerr << "label: " << lines << " HH comparisons (reward-eval split excluded): " << summary.imported
            << " imported, " << summary.unchanged << " already there\n";
  return lines;
}

// The labeling database's rankings into FILE, which the reward and DPO stages then read.
void export_rankings(const fs::path& db_path, const fs::path& file) {
  fs::create_directories(file.parent_path());
  auto db = storage::open_database(db_path.string());
  labeling::export_to_file(db, labeling::ExportFormat::Rankings, file.string());
}

int64_t human_rankings(const fs::path& db_path) {
  auto db = storage::open_database(db_path.string());
  std::ostringstream out;
  labeling::export_jsonl(db, labeling::ExportFormat::Rankings, out);
  int64_t n = 0;
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);)
    if (json::parse(line).value("source", "") == "human") ++n;
  return n;
}

std::string label_note(const LabelStageConfig& label) {
  if (label.source == "scripted") return "Labels: " + scripted_rule_description(label.scripted_rule) + ".";
  if (label.source == "import") return "Labels: real human comparisons imported from HH-RLHF (every split except the reward model's held-out one).";
  return "Labels: rankings by people in the labeling service.";
}

class PipelineRunner {
 public:
  explicit PipelineRunner(const PipelineConfig& config) : c_(config), run_(config.run_dir) {}

  StagePlan plan(const std::string& stage, const json& stage_seconds) {
    StagePlan p;
    const fs::path base = c_.base_model.empty() ? run_ / "pretrain" / "best" : fs::path(c_.base_model);
    const fs::path db = run_ / "labels.db";
    if (stage == "tokenizer") {
      if (!c_.base_model.empty()) return skipped("base_model is set");
      p.resolved = c_.tokenizer;
      p.out_dir = run_ / "tokenizer";
      p.run = [this](bool) {
        fs::remove_all(run_ / "tokenizer");
        resolve_tokenizer(c_.tokenizer, run_);
        return std::string();
      };
    } else if (stage == "pretrain") {
      if (!c_.base_model.empty()) return skipped("base_model is set");
      auto s = stage_config<PretrainConfig>(c_.pretrain);
      s.tokenizer = TokenizerSource{(run_ / "tokenizer").string(), 0, {}};
      s.out_dir = (run_ / "pretrain").string();
      s.runtime = c_.runtime;
      p = training(json(s), s.out_dir, [s](bool resume) { run_pretrain(s, resume); });
    } else if (stage == "sft") {
      auto s = stage_config<SftConfig>(c_.sft);
      s.init_from = base.string();
      s.out_dir = (run_ / "sft").string();
      s.runtime = c_.runtime;
      p = training(json(s), s.out_dir, [s](bool resume) { run_sft(s, resume); });
    } else if (stage == "sample") {
      auto s = c_.sample;
      s.model = (run_ / "sft" / "best").string();
      s.db = db.string();
      s.runtime = c_.runtime;
      p.resolved = s;
      p.out_dir = run_;
      p.run = [s](bool) {
        sample_candidates(s);
        return std::string();
      };
    } else if (stage == "label") {
      p.resolved = c_.label;
      p.out_dir = run_;
      p.always_run = c_.label.source == "human";
      p.run = [this, db](bool) { return label(db); };
    } else if (stage == "reward") {
      auto s = stage_config<RewardConfig>(c_.reward);
      s.init_from = (run_ / "sft" / "best").string();
      s.out_dir = (run_ / "reward").string();
      s.runtime = c_.runtime;
      // The comparisons come from the label stage: the labeling database replaces data.train_files.
      s.data.train_files = {(run_ / "reward" / "labels.rankings.jsonl").string()};
      p = training(json(s), s.out_dir, [s, db](bool resume) {
        export_rankings(db, s.data.train_files[0]);
        run_reward(s, resume);
      });
    } else if (stage == "ppo") {
      auto s = stage_config<PpoConfig>(c_.ppo);
      s.policy_from = (run_ / "sft" / "best").string();
      s.reward_from = (run_ / "reward" / "best").string();
      s.judge_from = judge_from();
      s.out_dir = (run_ / "ppo").string();
      s.runtime = c_.runtime;
      p = training(json(s), s.out_dir, [s](bool resume) { run_ppo(s, resume); });
    } else if (stage == "dpo") {
      if (!configured(c_.dpo)) return skipped("no dpo stage configured");
      auto s = stage_config<DpoConfig>(c_.dpo);
      s.init_from = (run_ / "sft" / "best").string();
      s.reference_from.clear();
      s.compare_reward_from = (run_ / "reward" / "best").string();
      s.out_dir = (run_ / "dpo").string();
      s.runtime = c_.runtime;
      // The same comparisons as the reward stage: the labeling database's export replaces data.train_files.
      s.data.train_files = {(run_ / "dpo" / "labels.rankings.jsonl").string()};
      p = training(json(s), s.out_dir, [s, db](bool resume) {
        export_rankings(db, s.data.train_files[0]);
        run_dpo(s, resume);
      });
    } else if (stage == "rejection_sft") {
      if (!configured(c_.rejection_sft)) return skipped("no rejection_sft stage configured");
      auto s = stage_config<RejectionSftConfig>(c_.rejection_sft);
      s.policy_from = (run_ / "sft" / "best").string();
      s.reward_from = (run_ / "reward" / "best").string();
      s.out_dir = (run_ / "rejection_sft").string();
      s.runtime = c_.runtime;
      p = training(json(s), s.out_dir, [s](bool resume) { run_rejection_sft(s, resume); });
    } else if (stage == "eval") {
      auto s = stage_config<EvalConfig>(c_.eval);
      s.policies = {{"base", base.string()}, {"sft", (run_ / "sft" / "best").string()}, {"ppo", (run_ / "ppo" / "last").string()}};
      if (configured(c_.dpo)) s.policies.push_back({"dpo", (run_ / "dpo" / "best").string()});
      if (configured(c_.rejection_sft)) s.policies.push_back({"rejection_sft", (run_ / "rejection_sft" / "best").string()});
      s.reference = "sft";
      s.ab_policy = "ppo";
      s.reward_from = (run_ / "reward" / "best").string();
      s.judge_from = judge_from();
      s.labeling_db = db.string();
      s.run_dirs.clear();
      for (const char* d : {"pretrain", "sft", "reward", "ppo", "dpo", "rejection_sft"})
        if (fs::exists(run_ / d / "metrics.jsonl")) s.run_dirs.push_back((run_ / d).string());
      s.notes.push_back(label_note(c_.label));
      s.out_dir = (run_ / "eval").string();
      s.runtime = c_.runtime;
      p.resolved = s;
      p.out_dir = s.out_dir;
      s.stage_seconds = stage_seconds;  // reported, not an input
      p.run = [s](bool) {
        run_eval(s);
        return std::string();
      };
    } else {
      throw std::runtime_error("unknown stage \"" + stage + "\"");
    }
    return p;
  }

 private:
  static StagePlan skipped(const std::string& reason) {
    StagePlan p;
    p.skip_reason = reason;
    return p;
  }

  static StagePlan training(json resolved, const std::string& out_dir, std::function<void(bool)> run) {
    StagePlan p;
    p.resolved = std::move(resolved);
    p.out_dir = out_dir;
    p.resumable = true;
    p.run = [run](bool resume) {
      run(resume);
      return std::string();
    };
    return p;
  }

  std::string label(const fs::path& db) {
    const auto& l = c_.label;
    if (l.source == "import") {
      if (l.import_files.empty()) throw std::runtime_error("label.import_files: nothing to import");
      import_hh(l.import_files, db, run_ / "label");
    } else if (l.source == "scripted") {
      auto database = storage::open_database(db.string());
      const int64_t n = run_scripted_labeler(database, l.scripted_rule);
      std::cerr << "label: " << scripted_rule_description(l.scripted_rule) << "; ranked " << n << " tasks\n";
    } else if (l.source == "human") {
      const int64_t have = human_rankings(db);
      if (have < l.min_rankings) {
        throw PipelinePaused(
            "label: " + std::to_string(have) + " of " + std::to_string(l.min_rankings) +
            " human rankings so far. Start the labeling service:\n  rlhf serve --db " + db.string() +
            " --port 8080\nadd labelers (each gets a token to paste into the page):\n  rlhf labelers add --db " +
            db.string() + " --name NAME\nand once enough rankings exist, resume:\n  rlhf pipeline --config CONFIG --resume");
      }
      std::cerr << "label: " << have << " human rankings\n";
    } else {
      throw std::runtime_error("label.source \"" + l.source + "\": expected human, import or scripted");
    }
    return export_hash(db);
  }

  // An optional stage runs when the pipeline config gives it a config file or overrides.
  static bool configured(const StageFile& stage) { return !stage.config.empty() || !stage.set.empty(); }

  // Never the stage config's own judge_from: that names a standalone run's files.
  std::string judge_from() const {
    return c_.judge_from.empty() ? (run_ / "reward" / "bag_of_words.json").string() : c_.judge_from;
  }

  const PipelineConfig& c_;
  fs::path run_;
};

}  // namespace

json run_pipeline(const PipelineConfig& config, const PipelineOptions& options) {
  const auto& stages = pipeline_stages();
  for (const auto* name : {&options.from, &options.only})
    if (!name->empty() && std::find(stages.begin(), stages.end(), *name) == stages.end())
      throw std::runtime_error("stage \"" + *name + "\": expected one of tokenizer, pretrain, sft, sample, label, reward, ppo, dpo, rejection_sft, eval");
  const fs::path run_dir(config.run_dir);
  fs::create_directories(run_dir);
  Lineage lineage((run_dir / "pipeline.db").string());
  PipelineRunner runner(config);

  json result = {{"stages", json::object()}};
  json stage_seconds = json::object();
  std::string chain;  // fingerprint + output of the previous stage: a change upstream reruns what follows
  bool forced = !options.resume;
  for (const auto& stage : stages) {
    if (stage == options.from) forced = true;
    auto latest = lineage.latest(stage);
    if (!options.only.empty() && stage != options.only) {
      if (latest && latest->status == "done") {
        chain = hex64(stable_hash(latest->fingerprint + latest->output_hash));
        stage_seconds[stage] = latest->seconds;
      }
      continue;
    }
    StagePlan plan = runner.plan(stage, stage_seconds);
    if (!plan.skip_reason.empty()) {
      result["stages"][stage] = {{"status", "not run"}, {"reason", plan.skip_reason}};
      continue;
    }
    std::vector<Artifact> inputs;
    collect_inputs(plan.resolved, run_dir, "", inputs);
    std::string material = stage + "\n" + plan.resolved.dump(-1, ' ', false, json::error_handler_t::replace) + "\n" + chain;
    for (const auto& a : inputs) material += "\n" + a.path + "=" + a.hash;
    const std::string fingerprint = hex64(stable_hash(material));

    const bool unchanged = latest && latest->fingerprint == fingerprint;
    if (!forced && !plan.always_run && options.only.empty() && unchanged && latest->status == "done") {
      std::cerr << "pipeline: " << stage << ": unchanged, skipped\n";
      result["stages"][stage] = {{"status", "skipped"}, {"seconds", latest->seconds}};
      stage_seconds[stage] = latest->seconds;
      chain = hex64(stable_hash(fingerprint + latest->output_hash));
      continue;
    }
    // An interrupted training stage with the same inputs continues from its last checkpoint.
    const bool resume_stage = options.resume && plan.resumable && unchanged && latest->status != "done" &&
                              is_native_checkpoint(plan.out_dir / "last");
    std::cerr << "pipeline: " << stage << (resume_stage ? ": resuming from " + (plan.out_dir / "last").string() : ": running")
              << "\n";
    const int64_t run_id = lineage.begin(stage, fingerprint, inputs);
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    std::string output_hash;
    try {
      output_hash = plan.run(resume_stage);
    } catch (const PipelinePaused& paused) {
      lineage.finish(run_id, "waiting", elapsed(), "", {}, paused.what());
      std::cerr << paused.what() << "\n";
      result["stages"][stage] = {{"status", "waiting"}, {"message", paused.what()}};
      result["paused_at"] = stage;
      break;
    } catch (const std::exception& e) {
      lineage.finish(run_id, "failed", elapsed(), "", {}, e.what());
      throw std::runtime_error(stage + ": " + e.what());
    }
    const double seconds = elapsed();
    std::vector<Artifact> outputs;
    if (fs::exists(plan.out_dir / "summary.json"))
      outputs.push_back({"output", (plan.out_dir / "summary.json").string(), hex64(hash_files({plan.out_dir / "summary.json"}))});
    lineage.finish(run_id, "done", seconds, output_hash, outputs);
    result["stages"][stage] = {{"status", "done"}, {"seconds", seconds}};
    stage_seconds[stage] = seconds;
    chain = hex64(stable_hash(fingerprint + output_hash));
    std::cerr << "pipeline: " << stage << ": done in " << seconds << " s\n";
  }
  write_file_atomic(run_dir / "pipeline.json", result.dump(2) + "\n");
  return result;
}

}  // namespace rlhf
