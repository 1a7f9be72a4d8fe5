// `rlhf eval`'s configuration: which policies to compare, against which reference, and the data of
// each measurement. Every measurement can be switched off by leaving its files empty.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "model/generate.h"
#include "text/data_split.h"

namespace rlhf {

struct EvalPolicy {
  std::string name;  // column name in the report, e.g. "base", "sft", "ppo"
  std::string path;  // any checkpoint a GPT loads from (native, PPO or HF GPT-2)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EvalPolicy, name, path)

struct EvalConfig {
  std::vector<EvalPolicy> policies = {{"base", "runs/quickstart/pretrain/best"},
                                      {"sft", "runs/quickstart/sft/best"},
                                      {"ppo", "runs/quickstart/ppo/last"}};
  std::string reference = "sft";  // win rates and KL are measured against this policy
  std::string reward_from = "runs/quickstart/reward/best";  // the proxy: the reward model PPO optimised ("" skips it)
  // The judge of helpfulness, a model the policies never optimised: a reward checkpoint or a
  // bag-of-words file (the reward stage's OUT/bag_of_words.json); "" skips it
  std::string judge_from;

  // Helpful: responses to held-out prompts judged by the reward model against the reference's.
  std::vector<std::string> helpful_prompt_files = {"data/eval/fastchat/mt_bench_question.jsonl",
                                                   "data/eval/fastchat/vicuna_bench_question.jsonl",
                                                   "data/sft/self-instruct/user_oriented_instructions.EVAL_ONLY.jsonl"};
  int64_t max_helpful_prompts = 96;
  SamplingConfig sampling = [] {
    SamplingConfig s;
    s.max_new_tokens = 48;
    s.temperature = 0.7;
    return s;
  }();
  int64_t max_prompt_tokens = 64;
  // > 1: a column for the reference's best of n samples per helpful prompt under the proxy reward
  // model (eval/best_of_n.h), judged like the policies on the helpful rows; needs reward_from
  int64_t best_of_n = 0;

  // Honest: TruthfulQA multiple choice, zero-shot and few-shot (MC1 and MC2).
  std::string truthfulqa_file = "data/eval/truthfulqa/TruthfulQA.csv";
  int64_t max_truthfulqa = 0;  // 0: all 817

  // Harmless: held-out HH-RLHF comparisons (the reward-eval split of a hash-split file, any other
  // file whole) and Anthropic A/B questions.
  std::vector<std::string> hh_files = {"data/preference/hh-rlhf/harmless-base-test.jsonl.gz"};
  std::vector<std::string> hash_split_files = kShippedHashSplitFiles;
  int64_t max_hh_pairs = 0;
  std::vector<std::string> anthropic_files = {"data/eval/anthropic-evals"};
  int64_t max_anthropic_per_file = 100;

  // Costs: perplexity on held-out pretraining text (the tail of every document, as pretraining held out).
  std::vector<std::string> heldout_text_files = {"data/corpus/austen"};
  double heldout_fraction = 0.05;
  int64_t max_heldout_tokens = 32768;
  std::string cache_dir = "runs/cache";

  // A blind A/B batch for people: `ab_policy` vs the reference on the first ab_pairs helpful prompts.
  std::string labeling_db;  // "" skips it
  std::string ab_policy = "ppo";
  int64_t ab_pairs = 24;

  std::vector<std::string> run_dirs;  // stage directories whose metrics.jsonl the report charts
  std::vector<std::string> notes;     // shown at the top of the report (e.g. where labels came from)
  nlohmann::json stage_seconds = nlohmann::json::object();  // wall time per stage, for the report
  int64_t report_samples = 6;
  int64_t batch_size = 16;
  uint64_t seed = 1337;
  std::string precision = "auto";  // every measurement: auto, bf16 or fp32 (model/precision.h)
  std::string out_dir = "runs/quickstart/eval";
  RuntimeConfig runtime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EvalConfig, policies, reference, reward_from, judge_from, helpful_prompt_files,
                                                max_helpful_prompts, sampling, max_prompt_tokens, best_of_n, truthfulqa_file,
                                                max_truthfulqa, hh_files, hash_split_files, max_hh_pairs, anthropic_files,
                                                max_anthropic_per_file, heldout_text_files, heldout_fraction,
                                                max_heldout_tokens, cache_dir, labeling_db, ab_policy, ab_pairs,
                                                run_dirs, notes, stage_seconds, report_samples, batch_size, seed, precision,
                                                out_dir, runtime)

}  // namespace rlhf
