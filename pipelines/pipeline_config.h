// `rlhf pipeline`'s configuration: the InstructGPT recipe as one graph of stages, each configured by
// its own stage config (plus --set style overrides); the pipeline wires their inputs and outputs
// inside run_dir.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "pipelines/sample_candidates.h"
#include "text/tokenizer_source.h"

namespace rlhf {

struct StageFile {
  std::string config;              // the stage's JSON config (e.g. configs/quickstart-sft.json)
  std::vector<std::string> set;    // overrides, "key=value" as with --set
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StageFile, config, set)

struct LabelStageConfig {
  // "human": people rank the sampled candidates in the browser (the pipeline pauses until
  // min_rankings exist); "import": HH-RLHF comparisons from import_files (every split except the
  // reward model's held-out one); "scripted": a transparent rule ranks the candidates (see
  // pipelines/scripted_labeler.h), stated in the report and never presented as human data.
  std::string source = "import";
  std::vector<std::string> import_files;
  std::string scripted_rule = "prompt_overlap";
  int64_t min_rankings = 1;  // human: rankings by people needed before the pipeline goes on
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LabelStageConfig, source, import_files, scripted_rule, min_rankings)

struct PipelineConfig {
  std::string run_dir = "runs/quickstart";
  std::string base_model;      // an existing checkpoint (native or HF GPT-2) instead of the tokenizer + pretrain stages
  TokenizerSource tokenizer;   // the tokenizer stage: train a BPE or copy one
  StageFile pretrain, sft, reward, ppo, eval;
  // Optional: DPO from the SFT policy on the same labels as the reward stage, compared with PPO in
  // the eval (neither config nor set: not run)
  StageFile dpo;
  // Optional: rejection-sampling fine-tuning of the SFT policy on the reward model's best of n
  // (pipelines/rejection_sft.h), compared in the eval (neither config nor set: not run)
  StageFile rejection_sft;
  SampleCandidatesConfig sample;  // model and db are set by the pipeline
  LabelStageConfig label;
  // The judge of ppo and eval, a model PPO never optimises: "" is this run's reward stage's
  // bag-of-words model; or another reward checkpoint (or bag-of-words file)
  std::string judge_from;
  RuntimeConfig runtime;          // applied to every stage
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PipelineConfig, run_dir, base_model, tokenizer, pretrain, sft, reward,
                                                ppo, dpo, rejection_sft, eval, sample, label, judge_from, runtime)

inline const std::vector<std::string>& pipeline_stages() {
  static const std::vector<std::string> stages = {"tokenizer", "pretrain", "sft", "sample", "label",
                                                  "reward", "ppo", "dpo", "rejection_sft", "eval"};
  return stages;
}

}  // namespace rlhf
