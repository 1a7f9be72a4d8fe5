// Each family of subcommands registers itself on the root CLI11 app. Library code throws;
// main() turns any exception into one line on stderr and a non-zero exit.
#pragma once

#include <CLI/CLI.hpp>

namespace rlhf::app {

void register_labeling_commands(CLI::App& app);   // serve, labelers, labeling (labeling_commands.cpp)
#ifdef RLHF_WITH_TORCH
void register_model_commands(CLI::App& app);      // generate, score, import-hf, export-hf (model_commands.cpp)
void register_tokenizer_commands(CLI::App& app);  // tokenize, tokenizer train (tokenizer_commands.cpp)
void register_train_commands(CLI::App& app);      // pretrain, sft, reward, ppo, eval (train_commands.cpp)
void register_reward_score_command(CLI::App* reward);  // reward score (reward_commands.cpp)
void register_report_commands(CLI::App& app);     // report (report_commands.cpp)
void register_pipeline_commands(CLI::App& app);   // pipeline, labeling sample (pipeline_commands.cpp)
void register_launch_command(CLI::App& app);      // launch (launch_commands.cpp)
#endif

}  // namespace rlhf::app
