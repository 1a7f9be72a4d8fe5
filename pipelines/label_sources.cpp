#include "pipelines/label_sources.h"

#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "dist/distributed.h"
#include "dist/runtime.h"
#include "dpo/dpo_stage.h"
#include "ppo/ppo_stage.h"
#include "storage/schema.h"

namespace rlhf {

using nlohmann::json;

namespace {

// Replaces each labeling database in `files` by the name of its export in OUT; writes the export
// when `write` (the other ranks of a data-parallel job read rank 0's).
void replace_databases_by_exports(std::vector<std::string>& files, const std::string& out_dir,
                                  labeling::ExportFormat format, bool write) {
  const bool prompts = format == labeling::ExportFormat::Prompts;
  for (auto& file : files) {
    const std::filesystem::path path(file);
    if (path.extension() != ".db" && path.extension() != ".sqlite") continue;
    const auto exported = (std::filesystem::path(out_dir) / path.stem()).string() + (prompts ? ".prompts.jsonl" : ".rankings.jsonl");
    if (write) {
      if (!std::filesystem::exists(path)) throw std::runtime_error(file + ": no such labeling database");
      std::filesystem::create_directories(out_dir);
      auto db = storage::open_database(file);
      const size_t lines = labeling::export_to_file(db, format, exported);
      std::cerr << (prompts ? "ppo: exported " : "reward: exported ") << lines << (prompts ? " prompts" : " rankings")
                << " from " << file << " to " << exported << "\n";
    } else if (!std::filesystem::exists(exported)) {
      throw std::runtime_error(exported + ": rank 0's export of " + file + " is not visible here (OUT must be on a shared filesystem)");
    }
    file = exported;
  }
}

}  // namespace

void export_label_databases(std::vector<std::string>& files, const std::string& out_dir, const RuntimeConfig& runtime,
                            labeling::ExportFormat format) {
  Distributed& dist = init_distributed(select_device(runtime.device));
  dist.main_first("waiting for rank 0 to export the labeling database",
                  [&] { replace_databases_by_exports(files, out_dir, format, dist.is_main()); });
}

json run_reward_from_any_source(RewardConfig config, bool resume) {
  export_label_databases(config.data.train_files, config.out_dir, config.runtime, labeling::ExportFormat::Rankings);
  export_label_databases(config.data.eval_files, config.out_dir, config.runtime, labeling::ExportFormat::Rankings);
  return run_reward(config, resume);
}

json run_dpo_from_any_source(DpoConfig config, bool resume) {
  export_label_databases(config.data.train_files, config.out_dir, config.runtime, labeling::ExportFormat::Rankings);
  export_label_databases(config.data.eval_files, config.out_dir, config.runtime, labeling::ExportFormat::Rankings);
  return run_dpo(config, resume);
}

json run_ppo_from_any_source(PpoConfig config, bool resume) {
  export_label_databases(config.data.prompt_files, config.out_dir, config.runtime, labeling::ExportFormat::Prompts);
  export_label_databases(config.data.eval_prompt_files, config.out_dir, config.runtime, labeling::ExportFormat::Prompts);
  return run_ppo(config, resume);
}

}  // namespace rlhf
