// `rlhf labeling sample`: K candidate responses per prompt from a policy, put into a labeling
// database as tasks for people (or the scripted labeler) to rank.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "model/generate.h"

namespace rlhf {

struct SampleCandidatesConfig {
  std::string model;                      // checkpoint to sample from
  std::vector<std::string> prompt_files;  // any shape ppo/prompts.h reads
  std::string db;                         // labeling database (created and migrated if new)
  int64_t k = 4;                          // candidates per prompt (InstructGPT: 4 to 9)
  int64_t max_prompts = 64;
  int64_t max_prompt_tokens = 64;
  std::string kind = "helpful";           // helpful, harmless, honest or general
  std::string batch = "samples";          // labeling batch name
  SamplingConfig sampling = [] {
    SamplingConfig s;
    s.max_new_tokens = 48;
    s.temperature = 1.0;
    return s;
  }();
  RuntimeConfig runtime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SampleCandidatesConfig, model, prompt_files, db, k, max_prompts,
                                                max_prompt_tokens, kind, batch, sampling, runtime)

// Skips prompts of the reward model's held-out split. Returns {"prompts", "imported", "unchanged"}.
// Re-running with the same model and seed imports nothing new; another model's samples are new tasks.
nlohmann::json sample_candidates(const SampleCandidatesConfig& config);

}  // namespace rlhf
