// pipeline, labeling sample: the whole recipe from one config, and candidates for people to rank.
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "dist/distributed.h"
#include "io/config.h"
#include "pipelines/pipeline.h"
#include "pipelines/sample_candidates.h"

namespace rlhf::app {

namespace {

struct PipelineArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool resume = false;
  std::string from, only;
};

struct SampleArgs {
  SampleCandidatesConfig config;
  int64_t max_new_tokens = 48;
  double temperature = 1.0;
  uint64_t seed = 1337;
};

}  // namespace

void register_pipeline_commands(CLI::App& app) {
  auto pipeline_args = std::make_shared<PipelineArgs>();
  auto* pipeline = app.add_subcommand("pipeline", "Run the InstructGPT recipe end to end from one config (resumable)");
  pipeline->add_option("--config", pipeline_args->config, "Pipeline JSON config (see configs/quickstart.json)")->required();
  pipeline->add_option("--set", pipeline_args->overrides, "Override a pipeline config key (repeatable)");
  pipeline->add_flag("--resume", pipeline_args->resume, "Skip stages whose inputs are unchanged; continue interrupted ones");
  pipeline->add_option("--from", pipeline_args->from, "Rerun this stage and every stage after it");
  pipeline->add_option("--only", pipeline_args->only, "Run just this stage");
  pipeline->callback([pipeline_args] {
    require_single_process("rlhf pipeline");
    auto config = load_config<PipelineConfig>(pipeline_args->config, pipeline_args->overrides);
    auto result = run_pipeline(config, {pipeline_args->resume, pipeline_args->from, pipeline_args->only});
    std::cout << result.dump(2) << "\n";
    if (result.contains("paused_at")) std::cerr << "pipeline: paused at " << result["paused_at"].get<std::string>() << "\n";
    else std::cerr << "pipeline: done; report in " << config.run_dir << "/eval/report.html\n";
  });

  // `labeling sample` joins the labeling command family registered (without LibTorch) elsewhere.
  CLI::App* labeling = app.get_subcommand("labeling");
  auto args = std::make_shared<SampleArgs>();
  auto* sample = labeling->add_subcommand("sample", "Sample K responses per prompt from a model into a labeling database");
  sample->add_option("--model", args->config.model, "Checkpoint to sample from")->required();
  sample->add_option("--prompts", args->config.prompt_files, "Prompt JSONL files (any shape `rlhf ppo` reads)")->required();
  sample->add_option("--db", args->config.db, "Labeling database")->required();
  sample->add_option("--k", args->config.k, "Candidates per prompt")->capture_default_str();
  sample->add_option("--max-prompts", args->config.max_prompts, "At most this many prompts")->capture_default_str();
  sample->add_option("--max-new-tokens", args->max_new_tokens, "Tokens per response")->capture_default_str();
  sample->add_option("--temperature", args->temperature, "Sampling temperature")->capture_default_str();
  sample->add_option("--seed", args->seed, "Sampling seed")->capture_default_str();
  sample->add_option("--kind", args->config.kind, "helpful, harmless, honest or general")->capture_default_str();
  sample->add_option("--batch", args->config.batch, "Labeling batch name")->capture_default_str();
  sample->add_option("--device", args->config.runtime.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  sample->callback([args] {
    require_single_process("rlhf labeling sample");
    auto config = args->config;
    config.sampling.max_new_tokens = args->max_new_tokens;
    config.sampling.temperature = args->temperature;
    config.sampling.seed = args->seed;
    std::cout << sample_candidates(config).dump() << "\n";
  });
}

}  // namespace rlhf::app
