#include "ppo/ppo_trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "dist/runtime.h"
#include "io/error.h"
#include "model/model_io.h"
#include "model/precision.h"
#include "ppo/advantages.h"
#include "ppo/group_advantages.h"
#include "ppo/losses.h"
#include "ppo/rollout.h"
#include "text/chat_format.h"
#include "train/optimizer.h"
#include "train/seed.h"
#include "train/trainer.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double sum_of(const torch::Tensor& t) { return t.sum().item<double>(); }
// Unbiased standard deviation from n, sum and sum of squares.
double std_from_sums(double n, double sum, double sum_sq) {
  if (n < 2) return 0.0;
  return std::sqrt(std::max(0.0, sum_sq - sum * sum / n) / (n - 1.0));
}
double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// One iteration's rollout figures, summed over every rank's share.
struct RolloutTotals {
  double samples = 0, score = 0, score_sq = 0;  // count, sum and sum of squares of the raw scores
  double reward = 0;                            // sum of the KL-shaped rewards
  double sequence_kl = 0;                       // sum over sequences of their KL
  double token_kl = 0, response_mask = 0;       // sum of per-token KL over response tokens, and their count
  double response_tokens = 0, finished = 0;     // sampled tokens, and sequences that ended with EOS
  double tokens = 0;                            // prompt + response positions (for tokens/s)
};

RolloutTotals sum_rollout(const Rollout& r, const torch::Tensor& scores, Distributed& dist) {
  auto scores_d = scores.to(torch::kDouble);                                     // (B)
  const auto sums = dist.sum(
      {static_cast<double>(r.size()), sum_of(scores_d), sum_of(scores_d.square()), sum_of(r.rewards.sum(1)),
       sum_of(r.kl.sum(1)), sum_of(r.kl * r.mask), sum_of(r.mask), static_cast<double>(r.response_tokens_total()),
       static_cast<double>(std::count(r.finished.begin(), r.finished.end(), true)), static_cast<double>(r.ids.numel())},
      "summing the rollout statistics");
  RolloutTotals t;
  t.samples = sums[0], t.score = sums[1], t.score_sq = sums[2], t.reward = sums[3], t.sequence_kl = sums[4];
  t.token_kl = sums[5], t.response_mask = sums[6], t.response_tokens = sums[7], t.finished = sums[8], t.tokens = sums[9];
  return t;
}

// The returns' spread within each prompt's group, over every rank's groups.
struct GroupTotals {
  double groups = 0;
  double std_sum = 0;   // sum of each group's unbiased return std (the one GRPO divides by)
  double zero_std = 0;  // groups whose responses all have the same return: advantages 0, no signal
};

GroupTotals sum_groups(const Rollout& r, int64_t k, Distributed& dist) {
  // In double, k equal floats have a mean equal to each of them, so an all-equal group's std is 0.
  auto spread = group_std(r.sequence_returns.to(torch::kCPU, torch::kDouble).view({-1, k}));  // (P)
  const auto sums = dist.sum(
      {static_cast<double>(spread.size(0)), sum_of(spread), sum_of((spread == 0).to(torch::kDouble))},
      "summing the group statistics");
  return {sums[0], sums[1], sums[2]};
}

// Iteration i's prompts: consecutive slices of per-epoch permutations, a function of (seed, i).
std::vector<int64_t> prompts_of_iteration(uint64_t seed, int64_t iteration, int64_t rollout_size, int64_t n_prompts) {
  std::vector<int64_t> picks;
  int64_t epoch_cached = -1;
  torch::Tensor order;
  for (int64_t k = 0; k < rollout_size; ++k) {
    const int64_t global = iteration * rollout_size + k;
    const int64_t epoch = global / n_prompts;
    if (epoch != epoch_cached) {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(step_seed(seed, epoch, 5));
      order = torch::randperm(n_prompts, generator, torch::kLong);
      epoch_cached = epoch;
    }
    picks.push_back(order[global % n_prompts].item<int64_t>());
  }
  return picks;
}

}  // namespace

bool critic_free(const PpoConfig& c) { return c.algorithm == "rloo" || c.algorithm == "grpo"; }

void check_ppo_config(const PpoConfig& c) {
  require(c.algorithm == "ppo" || critic_free(c), "algorithm \"", c.algorithm, "\": expected ppo, rloo or grpo");
  require(c.iterations > 0, "iterations must be > 0");
  require(c.rollout_size > 0, "rollout_size must be > 0");
  require(c.samples_per_prompt >= 1, "samples_per_prompt must be >= 1");
  require(!critic_free(c) || c.samples_per_prompt >= 2, "samples_per_prompt ", c.samples_per_prompt, ": algorithm ",
          c.algorithm, " compares each response with the other samples of its prompt, so it needs >= 2");
  require(c.rollout_size % c.samples_per_prompt == 0, "rollout_size ", c.rollout_size,
          " must be a multiple of samples_per_prompt ", c.samples_per_prompt, " (whole groups of one prompt's samples)");
  require(!c.kl_in_loss || critic_free(c), "kl_in_loss: algorithm ppo keeps its KL penalty in the reward (set rloo or grpo)");
  // The k1 term's gradient, grad log p, has expectation 0 under on-policy samples: as a loss it
  // would not pull the policy towards the reference.
  require(!c.kl_in_loss || c.kl.estimator == "k3", "kl.estimator \"", c.kl.estimator,
          "\": kl_in_loss adds the k3 estimator to the loss (DeepSeekMath), set kl.estimator \"k3\"");
  require(!c.shared_value || !critic_free(c), "shared_value: algorithm ", c.algorithm, " has no value model");
  require(c.minibatch_size > 0 && c.minibatch_size <= c.rollout_size, "minibatch_size must be in [1, rollout_size]");
  require(c.ppo_epochs > 0, "ppo_epochs must be > 0");
  require(c.lr > 0, "lr must be > 0");
  require(c.clip_range > 0, "clip_range must be > 0");
  require(c.gamma >= 0 && c.gamma <= 1 && c.lambda >= 0 && c.lambda <= 1, "gamma and lambda must be in [0, 1]");
  require(c.kl.estimator == "k1" || c.kl.estimator == "k3", "kl.estimator \"" + c.kl.estimator + "\": expected k1 or k3");
  require(c.kl.init_beta >= 0, "kl.init_beta must be >= 0");
  require(!c.kl.adaptive || (c.kl.target > 0 && c.kl.horizon > 0), "kl.target and kl.horizon must be > 0");
  require(c.sampling.max_new_tokens > 0, "sampling.max_new_tokens must be > 0");
  require(!c.sampling.greedy, "sampling.greedy: PPO needs sampled (on-policy) responses");
  require(c.sampling.temperature > 0, "sampling.temperature must be > 0");
  // Ratios, KL and entropy are taken under softmax(logits / temperature): a filtered sampler would
  // make every update off-policy. (Stop strings only end a response; each token is still drawn from
  // that distribution.)
  require(c.sampling.top_k == 0, "sampling.top_k: PPO samples from the full distribution its ratios and KL use (set 0)");
  require(c.sampling.top_p == 1.0, "sampling.top_p: PPO samples from the full distribution its ratios and KL use (set 1)");
  require(c.data.max_prompt_tokens > 0, "data.max_prompt_tokens must be > 0");
  require(c.missing_eos_penalty >= 0, "missing_eos_penalty ", c.missing_eos_penalty,
          ": must be >= 0, it is subtracted from a truncated response's score (TRL's sign; a negative value would reward truncation)");
  require(c.score_scale == "none" || c.score_scale == "sft_std", "score_scale \"", c.score_scale, "\": expected none or sft_std");
  require(c.lr_schedule == "constant" || c.lr_schedule == "linear" || c.lr_schedule == "cosine",
          "lr_schedule \"", c.lr_schedule, "\": expected constant, linear or cosine");
  require(c.min_lr >= 0 && c.min_lr <= c.lr, "min_lr must be in [0, lr]");
  require(c.warmup_iterations >= 0, "warmup_iterations must be >= 0");
  require(!c.reward_from.empty() || !c.rule_reward.words.empty(),
          "reward_from: a reward checkpoint is needed (or rule_reward.words for a programmatic reward)");
  require(c.ptx_coef == 0 || !c.ptx_data.files.empty(), "ptx_data.files: PPO-ptx (ptx_coef > 0) needs a corpus");
  require(c.eval_every > 0, "eval_every must be > 0");
}

double ppo_learning_rate(const PpoConfig& c, int64_t iteration) {
  TrainConfig schedule;
  schedule.lr = c.lr;
  schedule.min_lr = c.min_lr;
  schedule.warmup_steps = c.warmup_iterations;
  schedule.max_steps = c.iterations;
  if (iteration < c.warmup_iterations || c.lr_schedule == "cosine") return learning_rate_at(schedule, iteration);
  if (c.lr_schedule == "constant") return c.lr;
  // linear: lr at the end of warmup, min_lr at `iterations` (TRL's and lm-human-preferences' decay)
  const double progress = static_cast<double>(iteration - c.warmup_iterations) /
                          static_cast<double>(std::max<int64_t>(1, c.iterations - c.warmup_iterations));
  return c.lr - std::min(1.0, progress) * (c.lr - c.min_lr);
}

PpoTrainer::PpoTrainer(const PpoConfig& config, const fs::path& out_dir, const Checkpoint* resume_from)
    : config_(config),
      device_(apply_runtime(config.runtime.device, config.runtime.threads)),
      precision_(choose_precision(config.precision, device_, "precision")),
      dist_(distributed()),
      kl_controller_(config.kl) {
  check_ppo_config(config);
  const int world = dist_.world_size();
  if (config.rollout_size % world != 0 || config.minibatch_size % world != 0)
    throw std::runtime_error("rollout_size " + std::to_string(config.rollout_size) + " and minibatch_size " +
                             std::to_string(config.minibatch_size) + " must be multiples of WORLD_SIZE " +
                             std::to_string(world) + " (every process takes an equal share)");
  if ((config.rollout_size / world) % config.samples_per_prompt != 0)
    throw std::runtime_error("rollout_size / WORLD_SIZE " + std::to_string(config.rollout_size / world) +
                             " must be a multiple of samples_per_prompt " + std::to_string(config.samples_per_prompt) +
                             " (each process owns whole groups of one prompt's samples)");
  auto sft = load_init_checkpoint(config.policy_from);
  tokenizer_ = *sft.tokenizer;
  block_size_ = sft.model.block_size;
  max_prompt_tokens_ = std::min(config.data.max_prompt_tokens, block_size_ - config.sampling.max_new_tokens);
  if (max_prompt_tokens_ < 1)
    throw std::runtime_error("sampling.max_new_tokens " + std::to_string(config.sampling.max_new_tokens) +
                             " leaves no room for a prompt in the " + std::to_string(block_size_) + "-token context");
  reference_ = build_gpt(sft, device_, config.policy_from);
  for (auto& p : reference_->parameters()) p.set_requires_grad(false);
  scorer_ = std::make_unique<Scorer>(config, device_);
  if (!config.judge_from.empty()) judge_ = std::make_unique<Judge>(config.judge_from, device_, "judge_from");
  if (resume_from) model_ = policy_value_from_checkpoint(*resume_from, device_, (out_dir / "last").string());
  else if (critic_free(config)) model_ = make_policy_only(sft, device_);  // RLOO and GRPO train no value
  else model_ = make_policy_value(sft, scorer_->reward_checkpoint(), config.shared_value, device_);
  if (model_->has_value() == critic_free(config))
    throw std::runtime_error((out_dir / "last").string() + ": the checkpoint " +
                             (model_->has_value() ? "has a value model" : "has no value model") + ", algorithm " +
                             config.algorithm + (critic_free(config) ? " trains none" : " needs one") +
                             ": resume with the algorithm that wrote it");
  model_->eval();  // no dropout in PPO: the first minibatch's ratio must be exactly 1
  dist_.broadcast_parameters(*model_);
  prompts_ = load_prompt_pool(config.data);
  std::cerr << "ppo: " << prompts_.train.size() << " training / " << prompts_.eval.size() << " held-out prompts\n";
  if (dist_.is_main()) std::cerr << "ppo: " << precision_.describe() << "\n";
  if (config.ptx_coef > 0) {
    const fs::path tokenizer_dir = out_dir / "tokenizer";
    dist_.main_first("waiting for rank 0 to tokenize the PPO-ptx corpus", [&] {
      if (dist_.is_main()) tokenizer_->save(tokenizer_dir);
      ptx_.emplace(prepare_corpus(config.ptx_data, *tokenizer_, tokenizer_dir, "ptx_data.files"));
    });
    if (ptx_->train.size() <= block_size_ + 1) throw std::runtime_error("ptx_data.files: corpus shorter than the context");
  }
  TrainConfig opt;
  opt.lr = config.lr;
  opt.weight_decay = config.weight_decay;
  opt.beta1 = config.beta1;
  opt.beta2 = config.beta2;
  optimizer_ = make_adamw(*model_, opt);
}

PolicyPrompt PpoTrainer::policy_prompt_of(const std::string& prompt) const {
  return policy_prompt(prompt, *tokenizer_, max_prompt_tokens_);
}

double PpoTrainer::start_score_scale(const json& held_out_first) {
  if (config_.score_scale == "none") return score_scale_ = 1.0;
  const double spread = held_out_first.at("score_std").get<double>();
  require(spread > 0 && std::isfinite(spread), "score_scale \"sft_std\": the SFT policy's scores on the ",
          held_out_first.value("prompts", 0), " held-out prompts have standard deviation ", spread,
          ": nothing to scale by (more held-out prompts, or score_scale \"none\")");
  score_scale_ = 1.0 / spread;
  if (!model_->has_value()) return score_scale_;
  torch::NoGradGuard no_grad;
  model_->value->head->weight.mul_(score_scale_);
  model_->value->head->bias.mul_(score_scale_);
  return score_scale_;
}

Checkpoint PpoTrainer::checkpoint() const {
  return policy_value_checkpoint(model_, *tokenizer_, {{"stage", "ppo"}, {"config", json(config_)}});
}

uint64_t PpoTrainer::sampling_seed(int64_t iteration, uint64_t stream) const {
  // Rank 0 samples as a lone process would; other ranks draw other streams.
  return step_seed(config_.seed, iteration, stream + 1000 * static_cast<uint64_t>(dist_.rank()));
}

json PpoTrainer::held_out_score() {
  // Each rank samples its share of the held-out prompts; the figures are over all of them.
  const RowRange rows = dist_.rows(static_cast<int64_t>(prompts_.eval.size()));
  std::vector<std::string> prompts;
  std::vector<std::vector<TokenId>> ids;
  for (int64_t k = rows.begin; k < rows.end; ++k) {
    auto p = policy_prompt_of(prompts_.eval[k]);
    prompts.push_back(std::move(p.text));
    ids.push_back(std::move(p.ids));
  }
  // count, sum and sum of squares of scores, sum of KL, response tokens, sum and sum of squares of judge scores
  std::vector<double> local(7, 0.0);
  if (!prompts.empty()) {
    SamplingConfig sampling = config_.sampling;
    sampling.seed = sampling_seed(0, 7);
    BF16Autocast autocast(precision_.bf16, device_);
    Rollout r = sample_rollout(model_->policy, prompts, ids, sampling, *tokenizer_, config_.minibatch_size);
    auto scores = scorer_->score(r, *tokenizer_).to(torch::kDouble);           // (B)
    evaluate_rollout(r, model_, reference_, config_.sampling.temperature, config_.minibatch_size);
    auto kl = (r.logprobs - r.ref_logprobs).sum(1).to(torch::kDouble);         // (B) sequence KL (k1)
    local = {static_cast<double>(r.size()), sum_of(scores), sum_of(scores.square()), sum_of(kl),
             static_cast<double>(r.response_tokens_total()), 0.0, 0.0};
    if (judge_) {
      std::vector<std::pair<std::string, std::string>> items;
      for (int64_t b = 0; b < r.size(); ++b) items.emplace_back(r.prompts[b], format_response(r.responses[b]));
      for (double j : judge_->score(items)) {
        local[5] += j;
        local[6] += j * j;
      }
    }
  }
  const auto sums = dist_.sum(local, "summing the held-out scores");
  const double n = std::max(1.0, sums[0]), mean = sums[1] / n;
  json held_out = {{"score", mean}, {"score_std", std_from_sums(sums[0], sums[1], sums[2])}, {"kl", sums[3] / n},
                   {"response_length", sums[4] / n}, {"prompts", static_cast<int64_t>(sums[0])}};
  if (judge_) {
    held_out["judge_score"] = sums[5] / n;
    held_out["judge_score_std"] = std_from_sums(sums[0], sums[5], sums[6]);
  }
  return held_out;
}

torch::Tensor PpoTrainer::ptx_loss(int64_t iteration, int64_t minibatch) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(step_seed(config_.seed, iteration * 100000 + minibatch, 9));
  const int64_t T = block_size_;
  auto starts_t = torch::randint(0, ptx_->train.size() - T - 1, {config_.ptx_batch_size}, generator, torch::kLong);
  const RowRange rows = dist_.rows(config_.ptx_batch_size);  // this rank's windows
  std::vector<int64_t> starts(starts_t.data_ptr<int64_t>() + rows.begin, starts_t.data_ptr<int64_t>() + rows.end);
  auto [x, y] = windows(ptx_->train, starts, T);                                 // (B, T) each
  auto logits = model_->policy->forward(x.to(device_)).logits;                   // (B, T, V)
  return model_->policy->loss(logits, y.to(device_));
}

// The per-minibatch figures of one iteration's updates, one row per minibatch.
struct PpoTrainer::UpdateStats {
  enum Column { kPolicyLoss, kValueLoss, kClipFrac, kValueClipFrac, kApproxKl, kEntropy, kRatio, kPtxLoss, kKlLoss, kColumns };
  torch::Tensor table;  // (minibatches, kColumns) double, means over ranks
  std::vector<double> grad_norms;
  int64_t minibatches = 0;
  bool early_stop = false;

  std::vector<double> column(Column c) const {
    auto values = table.select(1, c).contiguous();
    return std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  }
  double mean(Column c) const { return mean_of(column(c)); }
};

Rollout PpoTrainer::sample_iteration_rollout(int64_t iteration) {
  // samples_per_prompt sampled responses per prompt, in consecutive rows (data parallel: this rank's
  // share of the rows, whole groups).
  const int64_t per_prompt = config_.samples_per_prompt;
  auto picks = prompts_of_iteration(config_.seed, iteration, config_.rollout_size / per_prompt,
                                    static_cast<int64_t>(prompts_.train.size()));
  const RowRange my_rows = dist_.rows(config_.rollout_size);
  std::vector<std::string> batch_prompts;
  std::vector<std::vector<TokenId>> batch_ids;
  for (int64_t row = my_rows.begin; row < my_rows.end; ++row) {
    auto p = policy_prompt_of(prompts_.train[picks[row / per_prompt]]);
    batch_prompts.push_back(std::move(p.text));
    batch_ids.push_back(std::move(p.ids));
  }
  SamplingConfig sampling = config_.sampling;
  sampling.seed = sampling_seed(iteration, 6);
  return sample_rollout(model_->policy, batch_prompts, batch_ids, sampling, *tokenizer_, config_.minibatch_size);
}

PpoTrainer::UpdateStats PpoTrainer::update(const Rollout& r, int64_t iteration, double beta) {
  set_learning_rate(*optimizer_, ppo_learning_rate(config_, iteration));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(step_seed(config_.seed, iteration, 8));
  // Per-minibatch statistics stay on the device and are read once after the loop (one host sync
  // per iteration instead of seven per minibatch); only the optional early stop reads approx KL.
  std::vector<torch::Tensor> rows_of_stats;
  UpdateStats stats;
  // Each rank's minibatch is its share of the global one; every rank runs the same number of them.
  // Its loss is scaled by 1 / WORLD_SIZE, so the summed gradients are the mean over ranks.
  const int64_t M = config_.minibatch_size / dist_.world_size();
  const int64_t minibatches_per_epoch = config_.rollout_size / config_.minibatch_size;
  const double rank_share = 1.0 / static_cast<double>(dist_.world_size());
  const std::vector<torch::Tensor> parameters = model_->parameters();
  const torch::Tensor zero = torch::zeros({}, torch::TensorOptions().device(device_));
  for (int64_t epoch = 0; epoch < config_.ppo_epochs && !stats.early_stop; ++epoch) {
    auto order = torch::randperm(r.size(), generator, torch::kLong);
    for (int64_t k = 0, first = 0; k < minibatches_per_epoch && !stats.early_stop; ++k, first += M) {
      auto rows = order.narrow(0, first, M);
      auto mask = take_rows(r.mask, rows);                                       // (M, N)
      ResponseEvaluation out;
      torch::Tensor lm = zero;
      {
        // Forward passes only, and one scope per minibatch: autocast caches the bf16 copies of the
        // weights until its scope ends, and the optimizer step below changes them.
        BF16Autocast autocast(precision_.bf16, device_);
        out = model_->evaluate(take_rows(r.ids, rows), take_rows(r.attention_mask, rows), r.prompt_length,
                               config_.sampling.temperature, /*with_entropy=*/true);
        if (ptx_) lm = ptx_loss(iteration, stats.minibatches);
      }
      auto pl = policy_loss(out.logprobs, take_rows(r.logprobs, rows), take_rows(r.advantages, rows), mask,
                            config_.clip_range);
      ValueLoss vl{zero, zero};
      if (model_->has_value())
        vl = value_loss(out.values, take_rows(r.values, rows), take_rows(r.returns, rows), mask, config_.value_clip);
      auto entropy = masked_mean(out.entropy, mask);
      auto loss = model_->has_value() ? pl.loss + config_.vf_coef * vl.loss - config_.entropy_coef * entropy
                                      : pl.loss - config_.entropy_coef * entropy;
      torch::Tensor kl_term = zero;  // GRPO's KL term, against the reference log-probs of the rollout
      if (config_.kl_in_loss) {
        kl_term = kl_loss(out.logprobs, take_rows(r.ref_logprobs, rows), mask);
        loss = loss + beta * kl_term;
      }
      if (ptx_) loss = loss + config_.ptx_coef * lm;
      optimizer_->zero_grad();
      (loss * rank_share).backward();
      dist_.all_reduce_gradients(parameters);
      stats.grad_norms.push_back(clip_gradients(*model_, config_.grad_clip));
      optimizer_->step();
      rows_of_stats.push_back(torch::stack({pl.loss, vl.loss, pl.clip_frac, vl.clip_frac, pl.approx_kl, entropy,
                                            pl.ratio_mean, lm, kl_term}).detach().to(torch::kFloat));  // (kColumns)
      ++stats.minibatches;
      if (config_.max_approx_kl > 0 &&
          dist_.sum(pl.approx_kl.item<double>(), "summing approx KL") * rank_share > config_.max_approx_kl)
        stats.early_stop = true;
    }
  }
  stats.table = torch::stack(rows_of_stats).to(torch::kCPU, torch::kDouble);   // (minibatches, kColumns)
  dist_.all_reduce_sum(stats.table, "summing the minibatch statistics");
  stats.table *= rank_share;                                                   // means over ranks
  return stats;
}

IterationResult PpoTrainer::run_iteration(int64_t iteration) {
  // 1. Rollout, then 2. scores, log-probs of policy and reference and values. Sampling and scoring
  // share one autocast scope (the weights are cast once); the log-probs are computed in the
  // precision of the training forward, so that the first ratio is exactly 1. The scope ends before
  // the first optimizer step changes the weights it cached.
  const auto t0 = Clock::now();
  Rollout r;
  torch::Tensor raw_scores;                                                     // (B)
  double rollout_s = 0;
  {
    BF16Autocast autocast(precision_.bf16, device_);
    r = sample_iteration_rollout(iteration);
    rollout_s = seconds_since(t0);
    raw_scores = scorer_->score(r, *tokenizer_);
    evaluate_rollout(r, model_, reference_, config_.sampling.temperature, config_.minibatch_size);
  }
  // KL-shaped rewards; advantages (GAE, or for rloo/grpo each group's).
  const double beta = kl_controller_.beta();
  const RewardShaping shaping{beta, config_.kl.estimator, score_scale_, config_.score_clip, config_.missing_eos_penalty,
                              config_.gamma, config_.lambda, config_.whiten_advantages, &dist_};
  if (critic_free(config_))
    shape_group_rewards(r, raw_scores, shaping, {config_.algorithm, config_.samples_per_prompt, config_.kl_in_loss});
  else shape_rewards(r, raw_scores, shaping);
  const double score_s = seconds_since(t0) - rollout_s;

  // 3. ppo_epochs over shuffled minibatches.
  const auto t2 = Clock::now();
  const UpdateStats stats = update(r, iteration, beta);
  const double train_s = seconds_since(t2);

  // 4. Figures over every rank's rollout; the KL controller sees the mean sequence KL of all of them.
  const RolloutTotals totals = sum_rollout(r, raw_scores, dist_);
  const double samples = totals.samples;
  const double kl = totals.sequence_kl / samples;
  kl_controller_.update(kl, static_cast<int64_t>(samples));
  const double seconds = seconds_since(t0);
  using S = UpdateStats;
  IterationResult result;
  result.metrics = {{"score_mean", totals.score / samples},
                    {"score_std", std_from_sums(totals.samples, totals.score, totals.score_sq)},
                    {"reward_total", totals.reward / samples},
                    {"kl", kl},
                    {"kl_per_token", totals.token_kl / std::max(1.0, totals.response_mask)},
                    {"beta", beta},
                    {"entropy", stats.mean(S::kEntropy)},
                    {"clip_frac", stats.mean(S::kClipFrac)},
                    {"approx_kl", stats.mean(S::kApproxKl)},
                    {"policy_loss", stats.mean(S::kPolicyLoss)},
                    {"response_length", totals.response_tokens / samples},
                    {"finished_fraction", totals.finished / samples},
                    {"first_ratio", stats.table[0][S::kRatio].item<double>()},
                    {"minibatches", stats.minibatches},
                    {"early_stop", stats.early_stop},
                    {"grad_norm", mean_of(stats.grad_norms)},
                    {"lr", ppo_learning_rate(config_, iteration)},
                    {"time_rollout_s", rollout_s},
                    {"time_score_s", score_s},
                    {"time_train_s", train_s},
                    {"tokens_per_s", totals.tokens * (2.0 + config_.ppo_epochs) / std::max(1e-9, seconds)},
                    {"samples_per_s", samples / std::max(1e-9, seconds)}};
  if (dist_.active()) result.metrics["allreduce_s"] = dist_.take_communication_seconds();
  if (ptx_) result.metrics["ptx_loss"] = stats.mean(S::kPtxLoss);
  if (model_->has_value()) {
    result.metrics["value_loss"] = stats.mean(S::kValueLoss);
    result.metrics["value_clip_frac"] = stats.mean(S::kValueClipFrac);
    result.metrics["explained_variance"] = explained_variance(r.values, r.returns, r.mask, dist_);
  }
  if (critic_free(config_)) {
    const GroupTotals groups = sum_groups(r, config_.samples_per_prompt, dist_);
    result.metrics["reward_group_std"] = groups.std_sum / groups.groups;
    result.metrics["reward_zero_std_fraction"] = groups.zero_std / groups.groups;
  }
  if (config_.kl_in_loss) result.metrics["kl_loss"] = stats.mean(S::kKlLoss);
  result.samples = json::array();
  auto sequence_kl = r.kl.sum(1);                                                // (B)
  for (int64_t b = 0; b < std::min<int64_t>(config_.samples_per_table, r.size()); ++b)
    result.samples.push_back({{"prompt", r.prompts[b]}, {"response", r.responses[b]},
                              {"score", raw_scores[b].item<double>()}, {"kl", sequence_kl[b].item<double>()}});
  if (!std::isfinite(stats.mean(S::kPolicyLoss)) || !std::isfinite(stats.mean(S::kValueLoss)))
    throw std::runtime_error("ppo: iteration " + std::to_string(iteration + 1) + ": loss is not finite");
  return result;
}

}  // namespace rlhf
