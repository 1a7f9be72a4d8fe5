// train/foreach_adamw: the multi-tensor AdamW gives LibTorch's AdamW update, and their states are
// interchangeable (checkpoints written by one resume in the other).
#include <gtest/gtest.h>

#include <sstream>

#include "train/foreach_adamw.h"
#include "train/optimizer.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

using test::max_abs_diff;

// Two parameter groups as make_adamw builds them (decayed matmul weights, undecayed rest).
template <class Optimizer>
std::unique_ptr<Optimizer> make(GPT& model) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model->parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto options = torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-8);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(options).weight_decay(0.1)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(options).weight_decay(0.0)));
  return std::make_unique<Optimizer>(std::move(groups), options);
}

void train_step(GPT& model, torch::optim::Optimizer& optimizer, int step) {
  torch::manual_seed(100 + step);
  auto ids = torch::randint(0, model->config().vocab_size, {2, 9}, torch::kLong);
  optimizer.zero_grad();
  model->loss(model->forward(ids.narrow(1, 0, 8)).logits, ids.narrow(1, 1, 8)).backward();
  optimizer.step();
}

double max_parameter_difference(GPT& a, GPT& b) {
  double diff = 0.0;
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) diff = std::max(diff, max_abs_diff(pa[i], pb[i]));
  return diff;
}

TEST(ForeachAdamW, MatchesLibTorchAdamWStepForStep) {
  auto reference = test::tiny_model(1), batched = test::tiny_model(1);
  reference->train();
  batched->train();
  auto reference_opt = make<torch::optim::AdamW>(reference);
  auto batched_opt = make<ForeachAdamW>(batched);
  for (int step = 0; step < 6; ++step) {
    train_step(reference, *reference_opt, step);
    train_step(batched, *batched_opt, step);
    // The same elementwise operations in the same order: equal to float rounding, in practice bit for bit.
    ASSERT_LT(max_parameter_difference(reference, batched), 1e-7) << "step " << step;
  }
  EXPECT_GT(max_abs_diff(reference->parameters()[0], test::tiny_model(1)->parameters()[0]), 1e-3);  // it trained
}

TEST(ForeachAdamW, StateLoadsIntoLibTorchAdamWAndBack) {
  auto a = test::tiny_model(2), b = test::tiny_model(2);
  a->train();
  b->train();
  auto batched = make<ForeachAdamW>(a);
  auto plain = make<torch::optim::AdamW>(b);
  for (int step = 0; step < 3; ++step) {
    train_step(a, *batched, step);
    train_step(b, *plain, step);
  }
  // Swap the optimizers' states through their archives: each continues the other's run.
  std::stringstream from_batched, from_plain;
  torch::save(*batched, from_batched);
  torch::save(*plain, from_plain);
  auto plain_for_a = make<torch::optim::AdamW>(a);
  auto batched_for_b = make<ForeachAdamW>(b);
  torch::load(*plain_for_a, from_batched);
  torch::load(*batched_for_b, from_plain);
  for (int step = 3; step < 6; ++step) {
    train_step(a, *plain_for_a, step);
    train_step(b, *batched_for_b, step);
  }
  EXPECT_LT(max_parameter_difference(a, b), 1e-7);
}

TEST(ForeachAdamW, MakeAdamwBuildsIt) {
  auto model = test::tiny_model(3);
  TrainConfig config;
  auto optimizer = make_adamw(*model, config);
  EXPECT_NE(dynamic_cast<ForeachAdamW*>(optimizer.get()), nullptr);
}

}  // namespace
}  // namespace rlhf
