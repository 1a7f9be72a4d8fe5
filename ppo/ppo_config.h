// `rlhf ppo`'s configuration. Defaults follow the literature; the source of each is noted.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/runtime_config.h"
#include "model/generate.h"
#include "ppo/kl.h"
#include "pretrain/corpus.h"

namespace rlhf {

struct PpoDataConfig {
  std::vector<std::string> prompt_files;       // JSONL prompts (see ppo/prompts.h) or labeling databases (*.db)
  std::vector<std::string> eval_prompt_files;  // held-out prompts for score_first/score_last; empty: eval_percent
  int64_t eval_percent = 10;                   // of prompt_files, held out (by a stable hash) when no eval files
  int64_t max_eval_prompts = 64;
  bool exclude_reward_eval = true;             // skip prompts of the reward model's held-out split
  int64_t max_prompt_tokens = 64;              // prompts keep their last tokens, for the reward model too
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PpoDataConfig, prompt_files, eval_prompt_files, eval_percent,
                                                max_eval_prompts, exclude_reward_eval, max_prompt_tokens)

// A transparent programmatic reward instead of a reward model: the fraction of response tokens
// whose text (trimmed, lower-cased) is one of `words`. For tests, demos and debugging PPO itself.
struct RuleRewardConfig {
  std::vector<std::string> words;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RuleRewardConfig, words)

struct PpoConfig {
  std::string policy_from = "runs/quickstart/sft/best";    // the SFT policy: PPO's start and the KL reference
  std::string reward_from = "runs/quickstart/reward/best"; // a reward checkpoint ("" with rule_reward)
  RuleRewardConfig rule_reward;                            // used when reward_from is ""
  // A judge PPO never optimises, scored beside the proxy on held-out prompts: a reward checkpoint or
  // a bag-of-words file (the reward stage's OUT/bag_of_words.json); "" for none
  std::string judge_from;
  PpoDataConfig data;
  SamplingConfig sampling;        // rollouts sample at temperature 1 (on-policy), max_new_tokens per response

  // "ppo": GAE advantages from a learned value function (InstructGPT). "rloo" and "grpo" have no
  // value model: each prompt gets samples_per_prompt responses, and a response's advantage is its
  // sequence return against the others' (RLOO: minus the mean of the other k - 1, Ahmadian et al.
  // 2024; GRPO: minus the group mean, over the group's std, Shao et al. 2024 DeepSeekMath), the
  // estimators OpenRLHF calls rloo and group_norm. The clipped objective is PPO's for all three.
  std::string algorithm = "ppo";
  // k, responses sampled per prompt; must be >= 2 for rloo and grpo, and divide rollout_size
  int64_t samples_per_prompt = 1;
  // false: the per-token KL penalty is part of the reward (PPO; TRL's RLOOTrainer), for rloo/grpo
  // summed over the response into the sequence return. true (rloo/grpo only): no KL in the reward;
  // instead beta * the masked mean of the k3 estimator (DeepSeekMath's GRPO, beta 0.04 there) is
  // added to the loss, which needs kl.estimator "k3".
  bool kl_in_loss = false;

  int64_t iterations = 100;       // rollout + optimisation rounds
  int64_t rollout_size = 64;      // responses per iteration (Ziegler et al.: 64 per batch on 8 GPUs)
  int64_t minibatch_size = 16;
  int64_t ppo_epochs = 4;         // Ziegler et al. 2019; Stiennon et al. 2020
  double lr = 1e-5;               // InstructGPT 9.65e-6 (1.3B) ... scale up for tiny models
  int64_t warmup_iterations = 0;  // linear warmup from lr / warmup_iterations to lr
  // After warmup, per iteration: "constant" (InstructGPT), or "linear" (TRL's default, lm-human-
  // preferences) or "cosine" (OpenRLHF) decay towards min_lr, which it would reach at `iterations`
  std::string lr_schedule = "constant";
  double min_lr = 0.0;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.95;
  double grad_clip = 1.0;
  std::string precision = "auto";  // rollouts, scoring and training: auto, bf16 or fp32 (model/precision.h)

  // gamma, lambda, value_clip, vf_coef and shared_value concern the value model: ppo only.
  double gamma = 1.0;             // no discount within a response (Ziegler et al.)
  double lambda = 0.95;           // GAE lambda (Ziegler et al.; TRL)
  double clip_range = 0.2;        // Schulman et al. 2017
  double value_clip = 0.2;        // value-function clipping (OpenAI baselines ppo2; TRL)
  double vf_coef = 0.1;           // value loss weight (TRL)
  double entropy_coef = 0.0;      // optional entropy bonus
  double max_approx_kl = 0.0;     // > 0: stop an iteration's epochs once the update's approx KL exceeds it
  KlConfig kl;
  // "sft_std" divides every score by the standard deviation of the SFT policy's held-out scores
  // before training (lm-human-preferences' normalisation), so that kl.init_beta, value_clip,
  // score_clip and missing_eos_penalty mean the same whatever the reward model's spread; "none"
  // keeps its units. Reported scores stay in the reward model's units either way.
  std::string score_scale = "none";
  double score_clip = 0.0;        // > 0: clip the (scaled) score to [-score_clip, score_clip]
  // >= 0, subtracted from the score of a response that hit max_new_tokens without EOS (TRL's sign:
  // a negative value, which would reward truncation, is refused)
  double missing_eos_penalty = 0.0;
  // Whitening across the whole rollout. ppo: on (TRL's PPOTrainer always whitens). rloo: off is
  // the usual choice (TRL's RLOOConfig normalize_advantage defaults to false); grpo: off, its group
  // std already normalises (TRL's GRPOTrainer does no batch whitening). The default stays true so
  // that PPO is unchanged: set false for rloo and grpo (configs/quickstart-rloo.json does), unless
  // the rewards come in small units, which leave RLOO's raw advantages tiny.
  bool whiten_advantages = true;

  double ptx_coef = 0.0;          // PPO-ptx: weight of the pretraining LM loss (InstructGPT: 27.8)
  CorpusConfig ptx_data;          // the pretraining corpus it reads
  int64_t ptx_batch_size = 8;     // windows of the policy's block size per minibatch

  bool shared_value = false;      // value head on the policy's trunk (saves a model) instead of its own trunk
  int64_t eval_every = 10;        // iterations between held-out scores, sample tables and `last` checkpoints
  int64_t samples_per_table = 8;
  uint64_t seed = 1337;
  int64_t stop_at = 0;            // > 0: stop after this many iterations with a checkpoint (continue with --resume)
  std::string out_dir = "runs/quickstart/ppo";
  RuntimeConfig runtime;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PpoConfig, policy_from, reward_from, rule_reward, judge_from, data, sampling,
                                                algorithm, samples_per_prompt, kl_in_loss,
                                                iterations, rollout_size, minibatch_size, ppo_epochs, lr,
                                                warmup_iterations, lr_schedule, min_lr, weight_decay, beta1, beta2, grad_clip, precision, gamma, lambda,
                                                clip_range, value_clip, vf_coef, entropy_coef, max_approx_kl, kl,
                                                score_scale, score_clip, missing_eos_penalty, whiten_advantages, ptx_coef, ptx_data,
                                                ptx_batch_size, shared_value, eval_every, samples_per_table, seed,
                                                stop_at, out_dir, runtime)

}  // namespace rlhf
