#include "train/foreach_adamw.h"

#include <cmath>
#include <map>
#include <string>

namespace rlhf {

namespace {

// The tensors of the parameters that share a step count (in practice the whole group).
struct StepBatch {
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
};

// The key of a parameter's state in Optimizer::state_, as LibTorch's own AdamW computes it.
void* state_key(const torch::Tensor& p) { return p.unsafeGetTensorImpl(); }

}  // namespace

torch::Tensor ForeachAdamW::step(LossClosure closure) {
  for (auto& group : param_groups_)  // AMSGrad's extra state is not batched here
    if (static_cast<torch::optim::AdamWOptions&>(group.options()).amsgrad()) return torch::optim::AdamW::step(closure);
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    auto& options = static_cast<torch::optim::AdamWOptions&>(group.options());
    const double lr = options.lr(), weight_decay = options.weight_decay(), eps = options.eps();
    const auto [beta1, beta2] = options.betas();

    std::map<int64_t, StepBatch> batches;  // by step count after this step
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      TORCH_CHECK(!p.grad().is_sparse(), "ForeachAdamW does not support sparse gradients");
      const auto key = state_key(p);
      auto found = state_.find(key);
      if (found == state_.end()) {
        auto state = std::make_unique<torch::optim::AdamWParamState>();
        state->step(0);
        state->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        state->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        found = state_.emplace(key, std::move(state)).first;
      }
      auto& state = static_cast<torch::optim::AdamWParamState&>(*found->second);
      state.step(state.step() + 1);
      auto& batch = batches[state.step()];
      batch.params.push_back(p);
      batch.grads.push_back(p.grad());
      batch.exp_avgs.push_back(state.exp_avg());
      batch.exp_avg_sqs.push_back(state.exp_avg_sq());
    }
    for (auto& [step, b] : batches) {
      const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
      const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
      if (weight_decay != 0) at::_foreach_mul_(b.params, 1.0 - lr * weight_decay);  // decoupled decay
      at::_foreach_mul_(b.exp_avgs, beta1);
      at::_foreach_add_(b.exp_avgs, b.grads, 1.0 - beta1);                           // m = b1 m + (1 - b1) g
      at::_foreach_mul_(b.exp_avg_sqs, beta2);
      at::_foreach_addcmul_(b.exp_avg_sqs, b.grads, b.grads, 1.0 - beta2);           // v = b2 v + (1 - b2) g^2
      auto denom = at::_foreach_sqrt(b.exp_avg_sqs);
      at::_foreach_div_(denom, std::sqrt(bias_correction2));
      at::_foreach_add_(denom, eps);                                                  // sqrt(v_hat) + eps
      at::_foreach_addcdiv_(b.params, b.exp_avgs, denom, -lr / bias_correction1);    // p -= lr m_hat / denom
    }
  }
  return loss;
}

}  // namespace rlhf
