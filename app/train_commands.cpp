// pretrain, sft, reward, dpo, rejection-sft, ppo, eval: the stages, each run from a JSON config with --set overrides.
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "dist/distributed.h"
#include "dpo/dpo_stage.h"
#include "eval/eval_stage.h"
#include "io/config.h"
#include "pipelines/label_sources.h"
#include "pipelines/rejection_sft.h"
#include "ppo/ppo_stage.h"
#include "pretrain/pretrain.h"
#include "reward/reward_stage.h"
#include "sft/sft.h"

namespace rlhf::app {

namespace {

using nlohmann::json;

struct StageFlags {
  std::string config;
  std::vector<std::string> overrides;
  std::string out;
  bool resume = false;
  std::string device;
  int threads = -1;
};

void add_stage_flags(CLI::App* cmd, StageFlags& flags) {
  cmd->add_option("--config", flags.config, "JSON config (see configs/)");
  cmd->add_option("--set", flags.overrides, "Override a config key, e.g. --set train.lr=3e-4 (repeatable)");
  cmd->add_option("--out", flags.out, "Output directory (default: the config's out_dir)");
  cmd->add_flag("--resume", flags.resume, "Continue from OUT/last");
  cmd->add_option("--device", flags.device, "cpu, cuda, cuda:N or auto (overrides runtime.device)");
  cmd->add_option("--threads", flags.threads, "CPU threads (overrides runtime.threads)");
}

// Config file + --set + the dedicated flags, which are shorthands for --set.
template <class Config>
Config load_stage_config(const StageFlags& flags) {
  auto overrides = flags.overrides;
  if (!flags.out.empty()) overrides.push_back("out_dir=" + flags.out);
  if (!flags.device.empty()) overrides.push_back("runtime.device=" + flags.device);
  if (flags.threads >= 0) overrides.push_back("runtime.threads=" + std::to_string(flags.threads));
  return load_config<Config>(flags.config, overrides);
}

template <class Config, class Run>
CLI::App* register_stage(CLI::App& app, const char* name, const char* help, Run run) {
  auto flags = std::make_shared<StageFlags>();
  auto* cmd = app.add_subcommand(name, help);
  add_stage_flags(cmd, *flags);
  cmd->callback([flags, run, name, cmd] {
    if (!cmd->get_subcommands().empty()) return;  // a nested command (e.g. `reward score`) ran instead
    if (flags->config.empty()) throw std::runtime_error(std::string(name) + ": --config is required");
    auto config = load_stage_config<Config>(*flags);
    auto summary = run(config, flags->resume);
    std::cout << summary.dump(2) << "\n";
    std::cerr << name << ": done; summary in " << config.out_dir << "/summary.json\n";
  });
  return cmd;
}

}  // namespace

void register_train_commands(CLI::App& app) {
  register_stage<PretrainConfig>(app, "pretrain", "Train a GPT on raw text (from scratch or a checkpoint)", run_pretrain);
  register_stage<SftConfig>(app, "sft", "Supervised fine-tuning on demonstrations (loss on responses)", run_sft);
  auto* reward = register_stage<RewardConfig>(app, "reward", "Train a reward model on ranked comparisons",
                                              run_reward_from_any_source);
  reward->require_subcommand(0, 1);
  register_reward_score_command(reward);
  register_stage<DpoConfig>(app, "dpo", "Direct preference optimisation of a policy on ranked comparisons",
                            run_dpo_from_any_source);
  register_stage<RejectionSftConfig>(app, "rejection-sft",
                                     "Fine-tune the policy on the reward model's best of n samples (FeedME)",
                                     run_rejection_sft);
  register_stage<PpoConfig>(app, "ppo", "PPO against the reward model with a KL penalty to the SFT policy",
                            run_ppo_from_any_source);
  register_stage<EvalConfig>(app, "eval", "Compare policies: helpful, honest, harmless, and the costs",
                             [](const EvalConfig& config, bool resume) {
                               if (resume) throw std::runtime_error("eval: nothing to resume (rerun it)");
                               require_single_process("rlhf eval");
                               return run_eval(config)["table"];
                             });
}

}  // namespace rlhf::app
