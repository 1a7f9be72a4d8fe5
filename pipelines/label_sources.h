// Stages run straight from a labeling database: each *.db among a stage's input files is exported
// to OUT/<name>.rankings.jsonl (reward, DPO) or OUT/<name>.prompts.jsonl (PPO) first, so the stages
// themselves never touch the database.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "dpo/dpo_config.h"
#include "labeling/export.h"
#include "ppo/ppo_config.h"
#include "reward/reward_stage.h"

namespace rlhf {

// The reward stage reads rankings files; a labeling database (*.db) among its inputs is exported
// here to OUT/<name>.rankings.jsonl first (live submissions, lossless), so the stage itself never
// touches the database. Data parallel, rank 0 exports once and every rank reads that export, so all
// ranks see the same rankings even while people keep labeling.
void export_label_databases(std::vector<std::string>& files, const std::string& out_dir, const RuntimeConfig& runtime,
                            labeling::ExportFormat format);

// run_reward after exporting the databases among data.train_files and data.eval_files.
nlohmann::json run_reward_from_any_source(RewardConfig config, bool resume);
// run_dpo after exporting the databases among data.train_files and data.eval_files.
nlohmann::json run_dpo_from_any_source(DpoConfig config, bool resume);
// run_ppo after exporting the databases among data.prompt_files and data.eval_prompt_files.
nlohmann::json run_ppo_from_any_source(PpoConfig config, bool resume);

}  // namespace rlhf
