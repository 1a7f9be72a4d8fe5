#include "train/optimizer.h"

#include <torch/version.h>

#include <cmath>

#include "train/foreach_adamw.h"

namespace rlhf {

double learning_rate_at(const TrainConfig& config, int64_t step) {
  if (step < config.warmup_steps) return config.lr * static_cast<double>(step + 1) / static_cast<double>(config.warmup_steps);
  if (step >= config.max_steps) return config.min_lr;
  const double progress = static_cast<double>(step - config.warmup_steps) /
                          static_cast<double>(std::max<int64_t>(1, config.max_steps - config.warmup_steps));
  const double coeff = 0.5 * (1.0 + std::cos(M_PI * progress));  // 1 -> 0
  return config.min_lr + coeff * (config.lr - config.min_lr);
}

std::unique_ptr<torch::optim::AdamW> make_adamw(const torch::nn::Module& model, const TrainConfig& config) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    const std::string& name = item.key();
    const bool is_embedding = name.find("wte.") != std::string::npos || name.find("wpe.") != std::string::npos;
    (item.value().dim() >= 2 && !is_embedding ? decay : no_decay).push_back(item.value());
  }
  auto options = torch::optim::AdamWOptions(config.lr).betas({config.beta1, config.beta2}).eps(1e-8);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(options).weight_decay(config.weight_decay)));
  groups.emplace_back(no_decay,
                      std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(options).weight_decay(0.0)));
  return std::make_unique<ForeachAdamW>(std::move(groups), options);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

torch::Tensor clip_gradients_on_device(const torch::nn::Module& model, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : model.parameters())
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return torch::zeros({}, torch::kDouble);
  auto total_norm = torch::stack(at::_foreach_norm(grads)).to(torch::kFloat).norm();  // ()
  if (max_norm > 0) {
    // Scale by min(1, max_norm / norm) on the device instead of branching on the host.
    auto scale = (max_norm / (total_norm + 1e-6)).clamp_max(1.0);                // ()
    at::_foreach_mul_(grads, scale);                                             // one launch on a GPU
  }
  return total_norm;
}

double clip_gradients(const torch::nn::Module& model, double max_norm) {
  return clip_gradients_on_device(model, max_norm).item<double>();
}

}  // namespace rlhf
