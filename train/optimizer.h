// AdamW with two parameter groups: weight decay on matmul weights only; biases, LayerNorm gains and
// embeddings are not decayed (GPT-2/nanoGPT practice). The optimizer is the multi-tensor
// ForeachAdamW (train/foreach_adamw.h), which saves and loads like LibTorch's AdamW.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "train/train_config.h"

namespace rlhf {

std::unique_ptr<torch::optim::AdamW> make_adamw(const torch::nn::Module& model, const TrainConfig& config);
// Linear warmup to lr, then cosine decay to min_lr at max_steps (nanoGPT's get_lr).
double learning_rate_at(const TrainConfig& config, int64_t step);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);
// Global L2 norm of all gradients (before clipping), clipped in place when max_norm > 0.
double clip_gradients(const torch::nn::Module& model, double max_norm);
// The same without reading the norm on the host: a 0-dim tensor where the gradients live, so a GPU
// step does not wait for its own kernels (LibTorch's clip_grad_norm_ returns a double, so it syncs).
torch::Tensor clip_gradients_on_device(const torch::nn::Module& model, double max_norm);

}  // namespace rlhf
