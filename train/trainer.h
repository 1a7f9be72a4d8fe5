// The training loop every stage shares: learning-rate schedule, gradient accumulation, clipping,
// periodic evaluation, `best` and `last` checkpoints, metrics, NaN guard and exact resume.
//
// Exact resume works because nothing random depends on history: the stage derives step s's data
// from (seed, s), and the loop reseeds LibTorch's generator (dropout) from (seed, s) before each step.
// So the state to restore is the weights, the optimizer and a few counters.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/checkpoint.h"
#include "model/precision.h"
#include "train/train_config.h"

namespace rlhf {

struct StepPlan {
  // Each returns its share of the step's loss (the shares sum to the step loss), so accumulating
  // gradients over micro-batches equals one big batch.
  std::vector<std::function<torch::Tensor()>> micro_losses;
  int64_t tokens = 0;  // for tokens/s
};

struct TrainerHooks {
  std::function<StepPlan(int64_t step)> plan_step;
  std::function<nlohmann::json()> evaluate;  // runs in eval mode without grad; must contain eval_metric
  std::string eval_metric = "val_loss";      // lower is better; picks the `best` checkpoint
  std::function<Checkpoint()> checkpoint;    // the stage's checkpoint (weights, info, tokenizer)
};

struct TrainSummary {
  int64_t steps = 0;
  double loss_first = 0.0, loss_last = 0.0;
  nlohmann::json last_eval, best_eval;
  int64_t tokens_seen = 0;
  double tokens_per_s = 0.0;
  double seconds = 0.0;
  Precision precision;  // what the steps and evaluations ran in
};

// Writes OUT/metrics.jsonl, OUT/last, OUT/best. With resume, continues from OUT/last.
TrainSummary run_training(torch::nn::Module& model, torch::optim::Optimizer& optimizer, const TrainConfig& config,
                          const std::filesystem::path& out_dir, const TrainerHooks& hooks, bool resume,
                          const std::string& stage);

// Throws unless OUT/last holds a checkpoint to resume from; stages call it before any slow set-up.
void require_resumable(const std::filesystem::path& out_dir, const std::string& stage);

}  // namespace rlhf
