// Hyperparameters shared by every training stage (pretrain, SFT, reward): optimisation, schedule,
// batching, evaluation and checkpointing. Defaults follow nanoGPT's.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace rlhf {

struct TrainConfig {
  int64_t max_steps = 1000;        // optimizer steps
  int64_t batch_size = 16;         // sequences per micro-batch
  int64_t grad_accum = 1;          // micro-batches per optimizer step
  double lr = 6e-4;                // peak learning rate
  double min_lr = 6e-5;            // end of the cosine decay
  int64_t warmup_steps = 100;      // linear warmup from 0 to lr
  double weight_decay = 0.1;       // AdamW, on matmul weights only (not biases, LayerNorm, embeddings)
  double beta1 = 0.9;
  double beta2 = 0.95;
  double grad_clip = 1.0;          // global gradient-norm clip (0: off)
  int64_t eval_every = 100;        // steps between evaluations (and best/last checkpoints)
  int64_t log_every = 10;          // steps between metrics.jsonl lines
  uint64_t seed = 1337;
  int64_t stop_at = 0;             // > 0: stop after this many steps with a checkpoint (continue with --resume)
  std::string precision = "auto";  // auto, bf16 or fp32 (model/precision.h): auto is bf16 autocast where the device has bf16 units
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainConfig, max_steps, batch_size, grad_accum, lr, min_lr,
                                                warmup_steps, weight_decay, beta1, beta2, grad_clip, eval_every,
                                                log_every, seed, stop_at, precision)

}  // namespace rlhf
